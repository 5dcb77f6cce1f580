//! `cargo xtask ci package`: every published crate packages, and builds from its `.crate` alone.
//!
//! 1. `cargo package --workspace --no-verify` assembles every member (publish = false ones
//!    too: they must at least have versioned dependencies).
//! 2. The `.crate` of each published crate is unpacked under `target/package-check/`, and
//!    its `.rs` files are scanned: a `#[path]`, `include_str!`, `include_bytes!` or `include!`
//!    must name a file inside the package, and nothing may climb out of
//!    `CARGO_MANIFEST_DIR` at run time.
//! 3. The unpacked crates become a workspace of their own, our crates patched in for
//!    crates.io (they are not published yet), and `cargo check --all-targets` (with the
//!    default features, then all) plus `cargo test --doc --all-features` build every test,
//!    bench, example and doc test of them from the packaged files only. This replaces cargo's own verification, which builds
//!    only each library (and takes longer, one crate at a time).
//! 4. A fixture two crates need lives in one and is mirrored byte for byte into the other
//!    ([`MIRRORS`]): a copy that drifts from its original fails here.

use std::fs;
use std::path::{Component, Path, PathBuf};
use std::process::Command;

use crate::{Result, cargo, output, run};

/// Files copied from the crate that owns them into another crate's package, as
/// `(original, copy)` from the workspace root. The copies must stay byte-identical.
pub(crate) const MIRRORS: &[(&str, &str)] = &[
    (
        "crates/codec/benches/support/baseline.rs",
        "crates/facade/benches/support/baseline.rs",
    ),
    (
        "crates/codec/tests/fixtures/v1/one-report.json",
        "crates/facade/benches/support/v1/one-report.json",
    ),
    (
        "crates/codec/tests/fixtures/v1/one-report.json",
        "crates/sandbox/benches/support/v1/one-report.json",
    ),
    (
        "crates/facade/benches/support/spec_report.rs",
        "crates/sandbox/benches/support/spec_report.rs",
    ),
];

/// The step: see the module docs.
pub(crate) fn ci(root: &Path) -> Result {
    mirrors(root)?;

    let mut pack = cargo(root);
    // --allow-dirty: the step checks the tree as it is; CI runs it on a clean clone anyway.
    pack.args(["package", "--workspace", "--no-verify", "--allow-dirty"]);
    run(pack)?;

    let published = published(root)?;
    let check_dir = root.join("target/package-check");
    if check_dir.exists() {
        fs::remove_dir_all(&check_dir).map_err(|e| format!("{}: {e}", check_dir.display()))?;
    }
    fs::create_dir_all(&check_dir).map_err(|e| format!("{}: {e}", check_dir.display()))?;
    let mut dirs = Vec::new();
    for (name, version) in &published {
        let file = root.join(format!("target/package/{name}-{version}.crate"));
        let mut tar = Command::new("tar");
        tar.arg("-xzf").arg(&file).arg("-C").arg(&check_dir);
        output(tar)?;
        dirs.push((name.clone(), format!("{name}-{version}")));
    }

    let mut problems = Vec::new();
    for (_, dir) in &dirs {
        problems.extend(escapes(&check_dir.join(dir))?);
    }
    if !problems.is_empty() {
        return Err(format!(
            "packaged files reach outside their crate:\n  {}",
            problems.join("\n  ")
        ));
    }
    println!(
        "    {} packages unpacked; no path reaches outside its crate",
        dirs.len()
    );

    // One workspace of the unpacked crates, with the workspace's lock file so that the
    // third-party versions (and the target directory's artifacts) are the ones CI tests.
    let members: Vec<String> = dirs.iter().map(|(_, d)| format!("\"{d}\"")).collect();
    let patches: Vec<String> = dirs
        .iter()
        .map(|(name, d)| format!("{name} = {{ path = \"{d}\" }}"))
        .collect();
    let manifest = format!(
        "# Written by `cargo xtask ci package`: the packaged crates, built from their .crate alone.\n\
         [workspace]\nresolver = \"3\"\nmembers = [{}]\n\n[patch.crates-io]\n{}\n",
        members.join(", "),
        patches.join("\n")
    );
    write(&check_dir.join("Cargo.toml"), &manifest)?;
    fs::copy(root.join("Cargo.lock"), check_dir.join("Cargo.lock"))
        .map_err(|e| format!("Cargo.lock: {e}"))?;

    // Check mode writes no binary into target/debug, so sharing the target directory only
    // shares the third-party artifacts; our crates build apart (their paths differ).
    let target = root.join("target");
    // Default features too: a package loses its path-only dev-dependencies, among them a
    // dev-dependency on itself that turned a feature on for its tests in the workspace.
    for features in [None, Some("--all-features")] {
        let mut check = cargo(&check_dir);
        check.args(["check", "--workspace", "--all-targets"]);
        check.args(features).arg("--target-dir").arg(&target);
        run(check)?;
    }
    let mut doc = cargo(&check_dir);
    doc.args([
        "test",
        "--doc",
        "--workspace",
        "--all-features",
        "--target-dir",
    ])
    .arg(&target);
    run(doc)?;
    fs::remove_dir_all(&check_dir).map_err(|e| format!("{}: {e}", check_dir.display()))
}

/// Every mirrored copy equals its original.
fn mirrors(root: &Path) -> Result {
    let drifted = drifted(root, MIRRORS)?;
    if drifted.is_empty() {
        println!(
            "    {} mirrored fixtures equal their originals",
            MIRRORS.len()
        );
        Ok(())
    } else {
        Err(format!(
            "mirrored fixtures drifted (copy the original over them; see MIRRORS in \
             xtask/src/package.rs):\n  {}",
            drifted.join("\n  ")
        ))
    }
}

/// The copies of `mirrors` (paths from `root`) that differ from their originals.
fn drifted(root: &Path, mirrors: &[(&str, &str)]) -> Result<Vec<String>> {
    let mut drifted = Vec::new();
    for (original, copy) in mirrors {
        let read = |p: &str| fs::read(root.join(p)).map_err(|e| format!("{p}: {e}"));
        if read(original)? != read(copy)? {
            drifted.push(format!("{copy} differs from {original}"));
        }
    }
    Ok(drifted)
}

/// The workspace members that may be published: (name, version).
fn published(root: &Path) -> Result<Vec<(String, String)>> {
    Ok(crate::metadata_json(root)?
        .iter()
        // `publish = false` is an empty registry list; null means anywhere.
        .filter(|p| !p["publish"].as_array().is_some_and(Vec::is_empty))
        .filter_map(|p| Some((p["name"].as_str()?.into(), p["version"].as_str()?.into())))
        .collect())
}

/// The places in the `.rs` files under `crate_dir` that name a file outside it, or one the
/// package does not hold.
pub(crate) fn escapes(crate_dir: &Path) -> Result<Vec<String>> {
    let mut files = Vec::new();
    crate::collect_rs(crate_dir, &mut files)?;
    let mut problems = Vec::new();
    for file in &files {
        let text = fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
        let dir = file.parent().unwrap_or(crate_dir);
        let shown = file
            .strip_prefix(crate_dir.parent().unwrap_or(crate_dir))
            .unwrap_or(file);
        for (n, line) in text.lines().enumerate() {
            let at = format!("{}:{}", shown.display(), n + 1);
            for target in referenced(line) {
                let resolved = normalize(&dir.join(&target));
                if !resolved.starts_with(crate_dir) {
                    problems.push(format!("{at}: `{target}` is outside the crate"));
                } else if !resolved.is_file() {
                    problems.push(format!("{at}: `{target}` is not in the package"));
                }
            }
            if line.contains("CARGO_MANIFEST_DIR") && line.contains("..") {
                problems.push(format!("{at}: climbs out of CARGO_MANIFEST_DIR"));
            }
        }
    }
    Ok(problems)
}

/// The file paths a line hands the compiler: `#[path = "..."]` and `include*!("...")`.
fn referenced(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let line = line.trim_start();
    if line.starts_with("//") {
        return out;
    }
    for opener in [
        "#[path = \"",
        "include_str!(\"",
        "include_bytes!(\"",
        "include!(\"",
    ] {
        let mut rest = line;
        while let Some(i) = rest.find(opener) {
            rest = &rest[i + opener.len()..];
            if let Some(end) = rest.find('"') {
                out.push(rest[..end].to_string());
                rest = &rest[end..];
            }
        }
    }
    out
}

/// `path` with `.` and `..` resolved lexically (the files may not exist).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

fn write(path: &Path, text: &str) -> Result {
    fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

/// What each published crate must carry to be a good package: a README, the two licence
/// files (equal to the workspace's), a description, keywords and categories, and, for a
/// library, docs.rs metadata that documents all features with the `doc_cfg` badges on.
/// `packages` is `cargo metadata`'s package array; `root` the workspace root.
pub(crate) fn shelf_problems(root: &Path, packages: &[serde_json::Value]) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    for p in packages {
        let name = p["name"].as_str().unwrap_or_default();
        if p["publish"].as_array().is_some_and(Vec::is_empty) {
            continue;
        }
        let manifest = PathBuf::from(p["manifest_path"].as_str().unwrap_or_default());
        let dir = manifest.parent().unwrap_or(root);
        if p["description"].as_str().is_none_or(str::is_empty) {
            problems.push(format!("{name}: no `description`"));
        }
        for list in ["keywords", "categories"] {
            if p[list].as_array().is_none_or(Vec::is_empty) {
                problems.push(format!("{name}: no `{list}`"));
            }
        }
        if p["keywords"].as_array().is_some_and(|k| k.len() > 5) {
            problems.push(format!("{name}: crates.io takes at most 5 keywords"));
        }
        if p["license"].as_str().is_none_or(str::is_empty) {
            problems.push(format!("{name}: no `license`"));
        }
        match p["readme"].as_str() {
            Some(readme) if dir.join(readme).is_file() => {}
            _ => problems.push(format!("{name}: no `readme` file in its folder")),
        }
        for licence in ["LICENSE-MIT", "LICENSE-APACHE"] {
            let ours = fs::read(dir.join(licence)).ok();
            let workspace = fs::read(root.join(licence)).map_err(|e| format!("{licence}: {e}"))?;
            if ours.as_ref() != Some(&workspace) {
                problems.push(format!(
                    "{name}: {licence} missing from its folder or not the workspace's"
                ));
            }
        }
        let is_lib = p["targets"].as_array().is_some_and(|targets| {
            targets.iter().any(|t| {
                t["kind"]
                    .as_array()
                    .is_some_and(|k| k.iter().any(|k| k == "lib"))
            })
        });
        if is_lib {
            let docs_rs = &p["metadata"]["docs"]["rs"];
            let badges = docs_rs["rustdoc-args"]
                .as_array()
                .is_some_and(|a| a.windows(2).any(|w| w[0] == "--cfg" && w[1] == "docsrs"));
            if docs_rs["all-features"] != true || !badges {
                problems.push(format!(
                    "{name}: [package.metadata.docs.rs] needs all-features = true and \
                     rustdoc-args = [\"--cfg\", \"docsrs\"]"
                ));
            }
            let lib_rs = fs::read_to_string(dir.join("src/lib.rs")).unwrap_or_default();
            if !lib_rs.contains("#![cfg_attr(docsrs, feature(doc_cfg))]") {
                problems.push(format!(
                    "{name}: src/lib.rs lacks #![cfg_attr(docsrs, feature(doc_cfg))] (the badges)"
                ));
            }
        }
    }
    Ok(problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_paths_a_line_hands_the_compiler() {
        assert_eq!(
            referenced(r#"#[path = "../../../tests/fixtures/baseline.rs"]"#),
            ["../../../tests/fixtures/baseline.rs"]
        );
        assert_eq!(
            referenced(
                r#"const A: &[u8] = include_bytes!("a.json"); const B: &str = include_str!("b");"#
            ),
            ["b", "a.json"]
        );
        assert_eq!(
            referenced(r#"#[doc = include_str!("../README.md")]"#),
            ["../README.md"]
        );
        assert!(referenced(r#"// include_str!("../../x")"#).is_empty());
    }

    /// A crate folder with a bench that climbs out (as the benches did before the fixtures
    /// moved), an include of a file the package lacks, and a clean include.
    #[test]
    fn flags_paths_outside_the_crate_and_files_the_package_lacks() {
        let root = crate::workspace_root().join("target/xtask-escapes-test");
        let _ = fs::remove_dir_all(&root);
        let krate = root.join("krate");
        fs::create_dir_all(krate.join("benches")).unwrap();
        fs::create_dir_all(krate.join("src")).unwrap();
        fs::write(root.join("outside.rs"), "//! outside\n").unwrap();
        fs::write(krate.join("README.md"), "# r\n").unwrap();
        fs::write(
            krate.join("benches/b.rs"),
            "//! b\n#[path = \"../../outside.rs\"]\nmod o;\n",
        )
        .unwrap();
        fs::write(
            krate.join("src/lib.rs"),
            "//! l\n#[doc = include_str!(\"../README.md\")]\nstruct A;\n\
             const X: &[u8] = include_bytes!(\"gone.bin\");\n",
        )
        .unwrap();
        let problems = escapes(&krate).unwrap();
        let _ = fs::remove_dir_all(&root);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            problems[0].contains("benches/b.rs:2: `../../outside.rs` is outside"),
            "{problems:?}"
        );
        assert!(
            problems[1].contains("src/lib.rs:4: `gone.bin` is not in the package"),
            "{problems:?}"
        );
    }

    #[test]
    fn the_mirrored_fixtures_exist_and_are_equal() {
        mirrors(&crate::workspace_root()).unwrap();
    }

    #[test]
    fn a_copy_that_drifts_is_named() {
        let root = crate::workspace_root().join("target/xtask-mirrors-test");
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(&root).unwrap();
        fs::write(root.join("a"), "same\n").unwrap();
        fs::write(root.join("b"), "same\n").unwrap();
        fs::write(root.join("c"), "same but edited\n").unwrap();
        let found = drifted(&root, &[("a", "b"), ("a", "c")]);
        let missing = drifted(&root, &[("a", "gone")]);
        let _ = fs::remove_dir_all(&root);
        assert_eq!(found.unwrap(), ["c differs from a"]);
        assert!(missing.unwrap_err().starts_with("gone: "));
    }

    #[test]
    fn every_published_crate_is_shelf_ready_and_a_bare_one_is_not() {
        let root = crate::workspace_root();
        let mut cmd = cargo(&root);
        cmd.args(["metadata", "--format-version", "1", "--no-deps"]);
        let json: serde_json::Value = serde_json::from_str(&output(cmd).unwrap()).unwrap();
        let packages = json["packages"].as_array().unwrap();
        assert_eq!(
            shelf_problems(&root, packages).unwrap(),
            Vec::<String>::new()
        );

        // The model's entry stripped of its metadata, in a folder without README or licences.
        let mut bare = packages
            .iter()
            .find(|p| p["name"] == "ivr-reports-model")
            .unwrap()
            .clone();
        for field in ["description", "keywords", "categories", "metadata"] {
            bare[field] = serde_json::Value::Null;
        }
        bare["manifest_path"] = root
            .join("target/nowhere/Cargo.toml")
            .display()
            .to_string()
            .into();
        let problems = shelf_problems(&root, &[bare]).unwrap();
        for expected in [
            "no `description`",
            "no `keywords`",
            "no `categories`",
            "no `readme` file",
            "LICENSE-MIT missing",
            "LICENSE-APACHE missing",
            "[package.metadata.docs.rs]",
            "src/lib.rs lacks",
        ] {
            assert!(
                problems.iter().any(|p| p.contains(expected)),
                "{expected} not in {problems:?}"
            );
        }
    }
}
