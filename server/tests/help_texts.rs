//! `finlock --help` and the help of every subcommand speak to lenders and testers: no
//! issue numbers, no to-do notes, no words of the implementation (issue 13).

use clap::CommandFactory;
use finlock_server::cli::Cli;

/// Words that belong to the code or the tracker, not to a help text.
const INTERNAL: [&str; 14] = [
    "(issue", "issue ", "TODO", "FIXME", "XXX", "stub", "Rust", "struct ", "enum ", "serde",
    "unwrap", "crate::", "Option<", "Vec<",
];

/// `(command path, long help)` of `cmd` and every subcommand below it.
fn helps(cmd: &mut clap::Command, path: String, out: &mut Vec<(String, String)>) {
    out.push((path.clone(), cmd.render_long_help().to_string()));
    out.push((path.clone(), cmd.render_help().to_string()));
    for sub in cmd.get_subcommands_mut() {
        let name = format!("{path} {}", sub.get_name());
        helps(sub, name, out);
    }
}

#[test]
fn no_help_text_has_internal_words() {
    let mut cmd = Cli::command();
    cmd.build();
    let mut all = Vec::new();
    helps(&mut cmd, "finlock".into(), &mut all);
    // Every command is there: the server, the demo, the simulator, the lender's tools.
    for expected in [
        "finlock serve",
        "finlock demo",
        "finlock device",
        "finlock lender",
    ] {
        assert!(all.iter().any(|(p, _)| p == expected), "{expected} missing");
    }
    assert!(all.len() >= 20, "only {} help texts", all.len());
    for (path, text) in &all {
        assert!(!text.trim().is_empty(), "{path}: empty help");
        for word in INTERNAL {
            assert!(
                !text.contains(word),
                "`{path} --help` says {word:?}:\n{text}"
            );
        }
    }
}
