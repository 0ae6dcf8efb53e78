//! `riskmap serve --config riskmap.toml` (or `RISKMAP_CONFIG`): a TOML file
//! whose keys are `serve`'s long flag names (`listen = "0.0.0.0:8080"`,
//! `public-read = "limited"`, `cors-origins = ["https://a.example"]`,
//! `no-demo = true`). The file is turned into flags appended to the
//! command line before clap parses it, so every flag of `serve`, present
//! or added later, is a key with clap's own checks; a flag given on the
//! command line or through its environment variable wins over the file.
//! A key that is no flag of `serve` is an error naming it.

use std::ffi::OsString;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::parser::ValueSource;
use clap::{ArgAction, ArgMatches, Command};

/// The command line with the config file's flags added, or as given when
/// the command is not `serve` or names no config file.
///
/// # Errors
/// The file cannot be read or parsed, or a key is no flag of `serve`, or
/// a value has the wrong shape.
pub(crate) fn argv(cmd: Command, args: Vec<OsString>) -> anyhow::Result<Vec<OsString>> {
    // A first parse finds the subcommand, the config file and which flags
    // the command line (or the environment) gave; a wrong command line is
    // reported by the final parse as usual.
    let Ok(matches) = cmd.clone().try_get_matches_from(args.clone()) else {
        return Ok(args);
    };
    let Some(("serve", serve)) = matches.subcommand() else {
        return Ok(args);
    };
    let Some(path) = serve.get_one::<PathBuf>("config").cloned() else {
        return Ok(args);
    };
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("{}: cannot read the config file", path.display()))?;
    let table: toml::Table =
        toml::from_str(&text).with_context(|| format!("{}: not valid TOML", path.display()))?;
    let mut cmd = cmd;
    cmd.build();
    let Some(serve_cmd) = cmd.find_subcommand("serve") else {
        return Ok(args);
    };
    let mut extra = Vec::new();
    for (key, value) in &table {
        let arg = serve_cmd.get_arguments().find(|a| {
            a.get_long() == Some(key.as_str())
                || a.get_all_aliases()
                    .is_some_and(|al| al.contains(&key.as_str()))
        });
        let Some(arg) = arg.filter(|a| !matches!(a.get_id().as_str(), "config" | "help")) else {
            let keys: Vec<&str> = serve_cmd
                .get_arguments()
                .filter_map(|a| a.get_long())
                .filter(|l| !matches!(*l, "config" | "help"))
                .collect();
            bail!(
                "{}: unknown key `{key}`; the keys are serve's flags: {}",
                path.display(),
                keys.join(", ")
            );
        };
        let id = arg.get_id().as_str();
        if given(serve, id) || given(&matches, id) {
            continue;
        }
        let Some(long) = arg.get_long() else {
            continue;
        };
        let flag = matches!(arg.get_action(), ArgAction::SetTrue | ArgAction::SetFalse);
        let scalar = |v: &toml::Value| -> anyhow::Result<String> {
            Ok(match v {
                toml::Value::String(s) => s.clone(),
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Float(f) => f.to_string(),
                toml::Value::Boolean(b) => b.to_string(),
                _ => bail!(
                    "{}: `{key}`: expected a string, number or boolean",
                    path.display()
                ),
            })
        };
        match value {
            toml::Value::Boolean(b) if flag => {
                if *b {
                    extra.push(OsString::from(format!("--{long}")));
                }
            }
            _ if flag => bail!("{}: `{key}`: expected true or false", path.display()),
            toml::Value::Array(items) => {
                for item in items {
                    extra.push(OsString::from(format!("--{long}={}", scalar(item)?)));
                }
            }
            v => extra.push(OsString::from(format!("--{long}={}", scalar(v)?))),
        }
    }
    let mut out = args;
    out.extend(extra);
    Ok(out)
}

/// Whether the command line or the environment gave the argument `id`.
fn given(m: &ArgMatches, id: &str) -> bool {
    matches!(
        m.try_contains_id(id).ok().and_then(|_| m.value_source(id)),
        Some(ValueSource::CommandLine | ValueSource::EnvVariable)
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use clap::{CommandFactory, Parser};

    fn run(file: &str, cli: &[&str]) -> anyhow::Result<crate::Cli> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("riskmap.toml");
        std::fs::write(&path, file).unwrap();
        let mut args: Vec<OsString> = ["riskmap", "serve", "--config"]
            .iter()
            .map(OsString::from)
            .collect();
        args.push(path.clone().into());
        args.extend(cli.iter().map(OsString::from));
        let argv = argv(crate::Cli::command(), args)?;
        Ok(crate::Cli::try_parse_from(argv)?)
    }

    #[test]
    fn file_keys_are_flags_and_the_command_line_wins() {
        let cli = run(
            "listen = \"127.0.0.1:9999\"\nmax-connections = 7\nno-demo = true\npublic-read = \"limited\"\n",
            &["--public-read", "full"],
        )
        .unwrap();
        let crate::Command::Serve {
            addr,
            max_connections,
            no_demo,
            public_read,
            ..
        } = cli.command
        else {
            panic!("not serve");
        };
        assert_eq!(addr.to_string(), "127.0.0.1:9999");
        assert_eq!(max_connections, 7);
        assert!(no_demo);
        assert_eq!(public_read, "full");
    }

    #[test]
    fn unknown_keys_and_wrong_shapes_are_named() {
        let e = run("listn = \"127.0.0.1:1\"\n", &[]).unwrap_err();
        assert!(e.to_string().contains("unknown key `listn`"), "{e}");
        let e = run("no-demo = \"yes\"\n", &[]).unwrap_err();
        assert!(
            e.to_string().contains("`no-demo`: expected true or false"),
            "{e}"
        );
        let e = run("max-connections = \"many\"\n", &[]).unwrap_err();
        assert!(e.to_string().contains("max-connections"), "{e}");
    }
}
