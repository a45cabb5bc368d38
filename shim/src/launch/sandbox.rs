//! The runner's sandbox (opt-in per plugin), prepared in the daemon before
//! the fork: the user and groups, the clean environment and the Landlock
//! ruleset (with the `landlock` crate). The forked child applies them
//! (`child`).

use std::ffi::{CString, OsString};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use landlock::{
    ABI, Access, AccessFs, PathBeneath, PathFd, Ruleset, RulesetAttr, RulesetCreatedAttr,
};

use crate::limits::{SandboxSpec, glob_match};

/// What every sandboxed runner may read: the system's programs and
/// libraries (Python's standard library is under /usr), the few files of
/// /etc that the C library and Python read, and /proc. The runner's and the
/// shim's directories and the plugin's module_path are added per runner.
pub const BASE_READ: [&str; 28] = [
    "/usr",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/bin",
    "/sbin",
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/localtime",
    "/etc/timezone",
    "/etc/passwd",
    "/etc/group",
    "/etc/nsswitch.conf",
    "/etc/hosts",
    "/etc/host.conf",
    "/etc/resolv.conf",
    "/etc/gai.conf",
    "/etc/ssl",
    "/etc/ca-certificates",
    "/etc/python3",
    "/proc",
    "/sys/devices/system/cpu",
    "/sys/fs/cgroup",
    "/dev/urandom",
    "/dev/random",
    "/dev/zero",
];

/// What every sandboxed runner may write.
pub const BASE_WRITE: [&str; 1] = ["/dev/null"];

/// The Landlock ABI whose file-system rights the ruleset handles (best
/// effort: older kernels enforce what they know).
const LANDLOCK_ABI: ABI = ABI::V5;

/// The identity the runner drops to.
#[derive(Debug, Clone, PartialEq)]
pub struct Ids {
    pub uid: libc::uid_t,
    pub gid: libc::gid_t,
    pub groups: Vec<libc::gid_t>,
}

pub struct Prepared {
    pub ids: Option<Ids>,
    pub ruleset: Option<OwnedFd>,
    pub env: Vec<(OsString, OsString)>,
    pub warnings: Vec<String>,
}

/// Resolves `spec` for one runner; `extra_read` are the directories it
/// must read besides the configured ones (its own, the shim's, the
/// plugin's module_path).
pub fn prepare(spec: &SandboxSpec, extra_read: &[PathBuf]) -> Result<Prepared, String> {
    let mut warnings = Vec::new();
    let (ids, home) = resolve_ids(spec)?;
    let env = clean_env(
        std::env::vars_os(),
        &spec.env,
        home.as_deref(),
        spec.user.as_deref(),
    );
    let read: Vec<PathBuf> = BASE_READ
        .iter()
        .map(PathBuf::from)
        .chain(extra_read.iter().cloned())
        .chain(spec.read_paths.iter().cloned())
        .collect();
    let write: Vec<PathBuf> = BASE_WRITE
        .iter()
        .map(PathBuf::from)
        .chain(spec.write_paths.iter().cloned())
        .collect();
    let ruleset = build_ruleset(&read, &write)?;
    if ruleset.is_none() {
        warnings.push(format!(
            "the sandbox ({}) runs without file-system restrictions: this kernel does not support Landlock",
            spec.origin
        ));
    }
    Ok(Prepared {
        ids,
        ruleset,
        env,
        warnings,
    })
}

/// The user and group to drop to, and the user's home directory.
fn resolve_ids(spec: &SandboxSpec) -> Result<(Option<Ids>, Option<PathBuf>), String> {
    use nix::unistd::{Gid, Group, Uid, User};
    let user = match &spec.user {
        None => None,
        Some(name) => {
            let found = match name.parse::<u32>() {
                Ok(n) => User::from_uid(Uid::from_raw(n)),
                Err(_) => User::from_name(name),
            };
            Some(
                found
                    .map_err(|e| format!("sandbox user {name}: {e}"))?
                    .ok_or_else(|| format!("sandbox user {name} does not exist"))?,
            )
        }
    };
    let group = match &spec.group {
        None => None,
        Some(name) => {
            let found = match name.parse::<u32>() {
                Ok(n) => Group::from_gid(Gid::from_raw(n)),
                Err(_) => Group::from_name(name),
            };
            Some(
                found
                    .map_err(|e| format!("sandbox group {name}: {e}"))?
                    .ok_or_else(|| format!("sandbox group {name} does not exist"))?,
            )
        }
    };
    if user.is_none() && group.is_none() {
        return Ok((None, None));
    }
    let uid = user.as_ref().map_or(Uid::current(), |u| u.uid);
    let gid = match (&group, &user) {
        (Some(g), _) => g.gid,
        (None, Some(u)) => u.gid,
        (None, None) => Gid::current(),
    };
    let groups = match &user {
        Some(u) => {
            let name = CString::new(u.name.as_bytes()).map_err(|e| e.to_string())?;
            let mut list: Vec<libc::gid_t> = nix::unistd::getgrouplist(&name, gid)
                .map_err(|e| format!("groups of sandbox user {}: {e}", u.name))?
                .into_iter()
                .map(Gid::as_raw)
                .collect();
            if group.is_some() {
                // An explicit group replaces the user's primary group.
                list.retain(|&g| g == gid.as_raw() || g != u.gid.as_raw());
            }
            list
        }
        None => vec![gid.as_raw()],
    };
    let changes = uid != Uid::effective() || gid != Gid::effective();
    if changes && !Uid::effective().is_root() {
        return Err(format!(
            "the sandbox's user/group ({}) can only be switched to by a daemon running as root",
            spec.origin
        ));
    }
    let home = user.map(|u| u.dir);
    Ok((
        Some(Ids {
            uid: uid.as_raw(),
            gid: gid.as_raw(),
            groups,
        }),
        home,
    ))
}

/// The runner's environment: the allow-listed variables of ours, HOME,
/// USER and LOGNAME of the sandbox user, and a PATH.
pub fn clean_env(
    vars: impl Iterator<Item = (OsString, OsString)>,
    allow: &[String],
    home: Option<&Path>,
    user: Option<&str>,
) -> Vec<(OsString, OsString)> {
    let mut env: Vec<(OsString, OsString)> = vars
        .filter(|(k, _)| {
            let k = k.to_string_lossy();
            allow.iter().any(|g| glob_match(g, &k))
        })
        .collect();
    let mut set = |k: &str, v: OsString| {
        env.retain(|(name, _)| name != k);
        env.push((k.into(), v));
    };
    if let Some(home) = home {
        set("HOME", home.as_os_str().to_owned());
    }
    if let Some(user) = user.filter(|u| u.parse::<u32>().is_err()) {
        set("USER", user.into());
        set("LOGNAME", user.into());
    }
    if !env.iter().any(|(k, _)| k == "PATH") {
        env.push(("PATH".into(), "/usr/local/bin:/usr/bin:/bin".into()));
    }
    env
}

/// The Landlock ruleset: read (and execute) beneath `read`, everything
/// beneath `write`. Paths that do not exist are skipped. `None` when the
/// kernel has no Landlock.
fn build_ruleset(read: &[PathBuf], write: &[PathBuf]) -> Result<Option<OwnedFd>, String> {
    let err =
        |e: &dyn std::fmt::Display| format!("cannot build the sandbox's Landlock ruleset: {e}");
    let mut ruleset = Ruleset::default()
        .handle_access(AccessFs::from_all(LANDLOCK_ABI))
        .map_err(|e| err(&e))?
        .create()
        .map_err(|e| err(&e))?;
    let rules = read
        .iter()
        .map(|p| (p, AccessFs::from_read(LANDLOCK_ABI)))
        .chain(write.iter().map(|p| (p, AccessFs::from_all(LANDLOCK_ABI))));
    for (path, access) in rules {
        let Ok(meta) = std::fs::metadata(path) else {
            continue; // absent here (e.g. /lib32): nothing to allow
        };
        let access = if meta.is_dir() {
            access
        } else {
            access & AccessFs::from_file(LANDLOCK_ABI)
        };
        let fd = PathFd::new(path).map_err(|e| err(&e))?;
        ruleset = ruleset
            .add_rule(PathBeneath::new(fd, access))
            .map_err(|e| err(&e))?;
    }
    let fd: Option<OwnedFd> = ruleset.into();
    fd.map(super::high_fd).transpose().map_err(|e| err(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_environment_is_an_allow_list() {
        let vars = [
            ("PATH", "/p"),
            ("LANG", "C.UTF-8"),
            ("LC_ALL", "C"),
            ("PYTHONPATH", "/evil"),
            ("AWS_SECRET_ACCESS_KEY", "s"),
            ("HOME", "/root"),
        ]
        .into_iter()
        .map(|(k, v)| (OsString::from(k), OsString::from(v)));
        let allow: Vec<String> = ["PATH", "LANG", "LC_*"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let env = clean_env(vars, &allow, Some(Path::new("/home/b")), Some("bareos"));
        let get = |k: &str| {
            env.iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.to_string_lossy().into_owned())
        };
        assert_eq!(get("PATH").as_deref(), Some("/p"));
        assert_eq!(get("LC_ALL").as_deref(), Some("C"));
        assert_eq!(get("PYTHONPATH"), None);
        assert_eq!(get("AWS_SECRET_ACCESS_KEY"), None);
        assert_eq!(get("HOME").as_deref(), Some("/home/b"));
        assert_eq!(get("USER").as_deref(), Some("bareos"));
        let env = clean_env(std::iter::empty(), &[], None, None);
        assert_eq!(
            env,
            vec![("PATH".into(), "/usr/local/bin:/usr/bin:/bin".into())]
        );
    }

    #[test]
    fn users_and_groups_resolve_and_unknown_ones_are_named() {
        let spec = |user: Option<&str>, group: Option<&str>| SandboxSpec {
            user: user.map(str::to_string),
            group: group.map(str::to_string),
            origin: "test".into(),
            ..Default::default()
        };
        let err = resolve_ids(&spec(Some("no-such-user-xyz"), None)).unwrap_err();
        assert!(err.contains("no-such-user-xyz does not exist"), "{err}");
        let err = resolve_ids(&spec(None, Some("no-such-group-xyz"))).unwrap_err();
        assert!(err.contains("no-such-group-xyz does not exist"), "{err}");
        assert_eq!(resolve_ids(&spec(None, None)).unwrap(), (None, None));
        if nix::unistd::Uid::effective().is_root() {
            let (ids, home) = resolve_ids(&spec(Some("nobody"), None)).unwrap();
            let ids = ids.unwrap();
            assert_eq!(ids.uid, 65534);
            assert!(ids.groups.contains(&ids.gid));
            assert!(home.is_some());
            let (ids, _) = resolve_ids(&spec(Some("0"), Some("0"))).unwrap();
            assert_eq!(ids.unwrap().gid, 0);
        }
    }
}
