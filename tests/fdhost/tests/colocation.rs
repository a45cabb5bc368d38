//! The runner's serving thread runs on the CPU of the daemon thread that
//! calls it (sidecar.toml `follow_cpu`, on by default), and threads the
//! plugin starts get the process's own CPUs back.

mod sidecar_env;

use sidecar_env::*;

/// The CPUs this test (and so fdhost and its runner) may run on.
fn own_cpus() -> Vec<usize> {
    let mask = nix::sched::sched_getaffinity(nix::unistd::Pid::from_raw(0)).unwrap();
    (0..nix::sched::CpuSet::count())
        .filter(|&c| mask.is_set(c).unwrap_or(false))
        .collect()
}

/// (serving thread's CPUs, a plugin thread's CPUs) as the plugin saw them.
fn probe(env: &Env) -> (Vec<usize>, Vec<usize>) {
    let plugin = plugin_string(&test_plugins(), "cpu_probe", "");
    let run = env.backup("archive", &[&plugin], &[]);
    run.expect_ok();
    let out = run.all();
    let line = out
        .lines()
        .find_map(|l| l.split("cpu_probe: ").nth(1))
        .unwrap_or_else(|| panic!("no cpu_probe line:\n{out}"));
    let list = |key: &str| -> Vec<usize> {
        let value = line
            .split_whitespace()
            .find_map(|w| w.strip_prefix(key))
            .unwrap_or_else(|| panic!("no {key} in {line:?}"));
        value.split(',').map(|c| c.parse().unwrap()).collect()
    };
    (list("serving="), list("thread="))
}

#[test]
fn the_serving_thread_follows_the_daemon_thread_and_plugin_threads_do_not() {
    let cpus = own_cpus();
    if cpus.len() < 2 {
        eprintln!("skipped: this machine gives the test one CPU, there is nowhere to move");
        return;
    }
    let env = Env::new();
    let (serving, thread) = probe(&env);
    assert_eq!(serving.len(), 1, "serving thread on {serving:?}");
    assert!(cpus.contains(&serving[0]), "{serving:?} not in {cpus:?}");
    assert_eq!(thread, cpus, "the plugin's thread kept the serving CPU");
}

#[test]
fn follow_cpu_false_leaves_the_serving_thread_alone() {
    let cpus = own_cpus();
    let env = Env::new();
    env.config("follow_cpu = false\n");
    let (serving, thread) = probe(&env);
    assert_eq!(serving, cpus);
    assert_eq!(thread, cpus);
}
