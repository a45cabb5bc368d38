//! The address of `sidecar.debugpy=[HOST:]PORT`, as both sides read it: the
//! shim checks it when it reads the plugin string, the runner (and
//! `sidecar-runner replay --debugpy`) listens on it. A debugger port
//! executes whatever its client sends, so it is a loopback address or
//! nothing.

/// `(host, port)` of `[HOST:]PORT` (HOST in brackets allowed, default
/// 127.0.0.1); an error names what is wrong.
pub fn address(value: &str) -> Result<(String, u16), String> {
    let (host, port) = match value.rsplit_once(':') {
        Some((h, p)) => (h.trim_start_matches('[').trim_end_matches(']'), p),
        None => ("127.0.0.1", value),
    };
    let port = port
        .parse::<u16>()
        .ok()
        .filter(|&p| p != 0)
        .ok_or_else(|| format!("{port:?} is not a port number"))?;
    let loopback = host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if loopback {
        Ok((host.to_string(), port))
    } else {
        Err(format!(
            "{host} is not a loopback address (a debugger listens on 127.0.0.1, ::1 or localhost only)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::address;

    #[test]
    fn loopback_only() {
        assert_eq!(address("5678").unwrap(), ("127.0.0.1".into(), 5678));
        assert_eq!(address("[::1]:5678").unwrap(), ("::1".into(), 5678));
        assert_eq!(address("localhost:1").unwrap(), ("localhost".into(), 1));
        assert!(
            address("0.0.0.0:5678")
                .unwrap_err()
                .contains("not a loopback")
        );
        assert!(address("127.0.0.1:0").is_err());
        assert!(address("x").is_err());
    }
}
