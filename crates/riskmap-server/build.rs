//! Builds the web map (`web-map/`, npm + esbuild) into `web-map/dist`, which
//! `src/web.rs` embeds with rust-embed. Runs `npm ci` and `npm run build`
//! only when `web-map/dist/index.html` is missing or older than a source file,
//! so builds with an up-to-date `dist` need neither node nor the network.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

fn main() {
    let manifest =
        PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let web = manifest.join("../../web-map");
    let web = web.canonicalize().unwrap_or(web);

    let sources = [
        web.join("package.json"),
        web.join("package-lock.json"),
        web.join("build.mjs"),
        web.join("src"),
    ];
    for s in &sources {
        println!("cargo:rerun-if-changed={}", s.display());
    }
    let index = web.join("dist/index.html");
    println!("cargo:rerun-if-changed={}", index.display());
    println!("cargo:rerun-if-env-changed=RISKMAP_SKIP_WEB_BUILD");

    let newest_source = sources.iter().filter_map(|p| newest_mtime(p)).max();
    let built = mtime(&index);
    let stale = match (built, newest_source) {
        (None, _) => true,
        (Some(b), Some(s)) => s > b,
        (Some(_), None) => false,
    };
    if !stale {
        return;
    }
    if std::env::var_os("RISKMAP_SKIP_WEB_BUILD").is_some() && built.is_some() {
        println!(
            "cargo:warning=web-map/dist is older than its sources (RISKMAP_SKIP_WEB_BUILD set, not rebuilding)"
        );
        return;
    }

    let npm = if cfg!(windows) { "npm.cmd" } else { "npm" };
    if Command::new(npm).arg("--version").output().is_err() {
        fail(&format!(
            "the web map ({}) must be built, and `npm` was not found.\n\
             Install Node.js 20+ with npm (Debian: `apt-get install nodejs npm`), then build again;\n\
             or build it elsewhere with `cd web-map && npm ci && npm run build` and copy web-map/dist here.",
            web.display()
        ));
    }
    let lock = web.join("package-lock.json");
    let installed = web.join("node_modules/.package-lock.json");
    if mtime(&installed).is_none() || mtime(&lock) > mtime(&installed) {
        run(
            Command::new(npm)
                .args(["ci", "--no-audit", "--no-fund"])
                .current_dir(&web),
            "npm ci",
        );
    }
    run(
        Command::new(npm).args(["run", "build"]).current_dir(&web),
        "npm run build",
    );
    if mtime(&index).is_none() {
        fail("`npm run build` finished but web-map/dist/index.html is missing");
    }
}

fn run(cmd: &mut Command, what: &str) {
    // npm's output goes to cargo's build log; stdout lines starting with
    // `cargo:` would be read as instructions, so send it to stderr.
    let out = cmd
        .stdout(std::process::Stdio::piped())
        .output()
        .unwrap_or_else(|e| fail(&format!("could not run `{what}` in web-map/: {e}")));
    eprintln!("{}", String::from_utf8_lossy(&out.stdout));
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    if !out.status.success() {
        fail(&format!(
            "`{what}` failed in web-map/ ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
}

fn fail(msg: &str) -> ! {
    eprintln!("error: {msg}");
    for line in msg.lines() {
        println!("cargo:warning={line}");
    }
    std::process::exit(1);
}

fn mtime(p: &Path) -> Option<SystemTime> {
    std::fs::metadata(p).and_then(|m| m.modified()).ok()
}

/// The newest modification time of a file, or of any file under a directory.
fn newest_mtime(p: &Path) -> Option<SystemTime> {
    let meta = std::fs::metadata(p).ok()?;
    if !meta.is_dir() {
        return meta.modified().ok();
    }
    std::fs::read_dir(p)
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| newest_mtime(&e.path()))
        .max()
}
