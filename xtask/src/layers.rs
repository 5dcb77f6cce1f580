//! The dependency rules between our crates, read from ARCHITECTURE.md and checked by `tidy`.
//!
//! ARCHITECTURE.md states the rules in one table under the heading `### Dependency rules`:
//! one row per crate under `crates/`, naming in backticks the crates of ours it may depend on
//! and the third-party crates it must never depend on (`none` for an empty list). [`parse`]
//! reads that table and [`check`] holds `cargo metadata` against it, so the document and the
//! check cannot drift: a new crate without a row, a row for a crate that is gone, an edge the
//! table does not allow, or a table tidy cannot read all fail.

use std::collections::BTreeMap;

use crate::Result;

/// The heading whose first table holds the rules.
pub(crate) const HEADING: &str = "### Dependency rules";

/// One crate's rule: which of our crates it may use, which third-party crates never.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Rule {
    pub(crate) may: Vec<String>,
    pub(crate) never: Vec<String>,
}

/// Package name to its rule, as ARCHITECTURE.md states it.
pub(crate) type Rules = BTreeMap<String, Rule>;

/// A crate as the check sees it: its name and its normal and build dependencies.
#[derive(Debug)]
pub(crate) struct Node<'a> {
    pub(crate) name: &'a str,
    pub(crate) deps: &'a [String],
}

/// Whether `name` is one of our crates (the facade, or `ivr-reports-*`).
pub(crate) fn is_ours(name: &str) -> bool {
    name == "ivr-reports" || name.starts_with("ivr-reports-")
}

/// The rules table of ARCHITECTURE.md (`text`). Errors say which line tidy cannot read.
pub(crate) fn parse(text: &str) -> Result<Rules> {
    let mut lines = text.lines().enumerate();
    if !lines.any(|(_, l)| l.trim() == HEADING) {
        return Err(format!("ARCHITECTURE.md: no `{HEADING}` heading"));
    }
    // Skip prose up to the table, then read it to its end.
    let table: Vec<(usize, &str)> = lines
        .skip_while(|(_, l)| !l.trim_start().starts_with('|'))
        .take_while(|(_, l)| l.trim_start().starts_with('|'))
        .collect();
    let Some(((_, header), rows)) = table.split_first() else {
        return Err(format!("ARCHITECTURE.md: no table under `{HEADING}`"));
    };
    let columns = cells(header).len();
    if columns != 3 {
        return Err(format!(
            "ARCHITECTURE.md: the rules table has {columns} columns, tidy reads 3 \
             (package | may depend on | must never depend on)"
        ));
    }
    let mut rules = Rules::new();
    for &(n, line) in rows {
        let line_no = n + 1;
        let row = cells(line);
        if row
            .iter()
            .all(|c| c.chars().all(|ch| matches!(ch, '-' | ':')))
        {
            continue; // the separator row
        }
        let [package, may, never] = row.as_slice() else {
            return Err(format!(
                "ARCHITECTURE.md:{line_no}: {} cells, the rules table has 3",
                row.len()
            ));
        };
        let names = names(package, line_no)?;
        let [name] = names.as_slice() else {
            return Err(format!(
                "ARCHITECTURE.md:{line_no}: the first cell must name one package in backticks"
            ));
        };
        let rule = Rule {
            may: names_or_none(may, line_no)?,
            never: names_or_none(never, line_no)?,
        };
        if let Some(theirs) = rule.may.iter().find(|d| !is_ours(d)) {
            return Err(format!(
                "ARCHITECTURE.md:{line_no}: `{theirs}` in the second column is not one of our crates"
            ));
        }
        if rules.insert(name.clone(), rule).is_some() {
            return Err(format!(
                "ARCHITECTURE.md:{line_no}: `{name}` has a second row"
            ));
        }
    }
    if rules.is_empty() {
        return Err(format!(
            "ARCHITECTURE.md: the table under `{HEADING}` has no rows"
        ));
    }
    Ok(rules)
}

/// The cells of a table row, trimmed.
fn cells(line: &str) -> Vec<&str> {
    let line = line.trim();
    let line = line.strip_prefix('|').unwrap_or(line);
    let line = line.strip_suffix('|').unwrap_or(line);
    line.split('|').map(str::trim).collect()
}

/// The backticked names of a cell.
fn names(cell: &str, line_no: usize) -> Result<Vec<String>> {
    let parts: Vec<&str> = cell.split('`').collect();
    if parts.len().is_multiple_of(2) {
        return Err(format!(
            "ARCHITECTURE.md:{line_no}: unbalanced backticks in `{cell}`"
        ));
    }
    // Outside the backticks only separators may stand, so a name without them is not lost.
    if let Some(stray) = parts
        .iter()
        .step_by(2)
        .find(|p| !p.chars().all(|c| c == ',' || c.is_whitespace()))
    {
        return Err(format!(
            "ARCHITECTURE.md:{line_no}: `{}` is not in backticks",
            stray.trim()
        ));
    }
    Ok(parts
        .iter()
        .skip(1)
        .step_by(2)
        .map(|s| s.to_string())
        .collect())
}

/// `names`, or no name when the cell says `none`.
fn names_or_none(cell: &str, line_no: usize) -> Result<Vec<String>> {
    if cell.eq_ignore_ascii_case("none") {
        return Ok(Vec::new());
    }
    let names = names(cell, line_no)?;
    if names.is_empty() {
        return Err(format!(
            "ARCHITECTURE.md:{line_no}: an empty cell; write `none` for no crate"
        ));
    }
    Ok(names)
}

/// Every way `crates` (the packages under `crates/`) break `rules`, one line each.
pub(crate) fn check(rules: &Rules, crates: &[Node<'_>]) -> Vec<String> {
    let mut problems = Vec::new();
    for node in crates {
        let Some(rule) = rules.get(node.name) else {
            problems.push(format!(
                "{}: a crate ARCHITECTURE.md's dependency rules do not list; add its row",
                node.name
            ));
            continue;
        };
        for dep in node.deps {
            if is_ours(dep) && !rule.may.contains(dep) {
                problems.push(format!(
                    "{} depends on {dep}: ARCHITECTURE.md allows it only {}",
                    node.name,
                    list(&rule.may)
                ));
            }
            if rule.never.contains(dep) {
                problems.push(format!(
                    "{} depends on {dep}: ARCHITECTURE.md says it must never",
                    node.name
                ));
            }
        }
    }
    for name in rules.keys() {
        if !crates.iter().any(|c| c.name == name) {
            problems.push(format!(
                "ARCHITECTURE.md states a rule for `{name}`, which is no crate under crates/"
            ));
        }
    }
    problems
}

fn list(names: &[String]) -> String {
    if names.is_empty() {
        "none of our crates".to_string()
    } else {
        names.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "\
# Architecture

Prose | with a pipe that is no table.

### Dependency rules

Some words first.

| package | may depend on (our crates) | must never depend on |
|---|---|---|
| `ivr-reports-model` | none | `tokio`, `hyper` |
| `ivr-reports-codec` | `ivr-reports-model` | `tokio` |
| `ivr-reports-transport` | none | none |

## Where to start
";

    fn deps(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn reads_the_table() {
        let rules = parse(DOC).unwrap();
        assert_eq!(rules.len(), 3);
        assert_eq!(rules["ivr-reports-model"].may, Vec::<String>::new());
        assert_eq!(rules["ivr-reports-model"].never, deps(&["tokio", "hyper"]));
        assert_eq!(rules["ivr-reports-codec"].may, deps(&["ivr-reports-model"]));
        assert_eq!(rules["ivr-reports-transport"], Rule::default());
    }

    #[test]
    fn a_graph_that_obeys_passes() {
        let rules = parse(DOC).unwrap();
        let (model, codec, transport) = (
            deps(&["rust_decimal"]),
            deps(&["ivr-reports-model"]),
            deps(&["hyper"]),
        );
        let crates = [
            Node {
                name: "ivr-reports-model",
                deps: &model,
            },
            Node {
                name: "ivr-reports-codec",
                deps: &codec,
            },
            Node {
                name: "ivr-reports-transport",
                deps: &transport,
            },
        ];
        assert_eq!(check(&rules, &crates), Vec::<String>::new());
    }

    #[test]
    fn an_upward_edge_fails() {
        let rules = parse(DOC).unwrap();
        let (none, codec) = (
            deps(&[]),
            deps(&["ivr-reports-model", "ivr-reports-transport"]),
        );
        let crates = [
            Node {
                name: "ivr-reports-model",
                deps: &none,
            },
            Node {
                name: "ivr-reports-codec",
                deps: &codec,
            },
            Node {
                name: "ivr-reports-transport",
                deps: &none,
            },
        ];
        let problems = check(&rules, &crates);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].starts_with("ivr-reports-codec depends on ivr-reports-transport"),
            "{problems:?}"
        );
    }

    #[test]
    fn a_forbidden_third_party_crate_fails() {
        let rules = parse(DOC).unwrap();
        let (none, model) = (deps(&[]), deps(&["rust_decimal", "hyper"]));
        let crates = [
            Node {
                name: "ivr-reports-model",
                deps: &model,
            },
            Node {
                name: "ivr-reports-codec",
                deps: &none,
            },
            Node {
                name: "ivr-reports-transport",
                deps: &none,
            },
        ];
        let problems = check(&rules, &crates);
        assert_eq!(
            problems,
            ["ivr-reports-model depends on hyper: ARCHITECTURE.md says it must never"]
        );
    }

    #[test]
    fn a_crate_without_a_row_and_a_row_without_a_crate_fail() {
        let rules = parse(DOC).unwrap();
        let none = deps(&[]);
        let crates = [
            Node {
                name: "ivr-reports-model",
                deps: &none,
            },
            Node {
                name: "ivr-reports-codec",
                deps: &none,
            },
            Node {
                name: "ivr-reports-new",
                deps: &none,
            },
        ];
        let problems = check(&rules, &crates);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            problems[0].starts_with("ivr-reports-new: a crate"),
            "{problems:?}"
        );
        assert!(
            problems[1].contains("`ivr-reports-transport`"),
            "{problems:?}"
        );
    }

    #[test]
    fn a_table_tidy_cannot_read_is_an_error_not_an_empty_rule() {
        let no_heading = DOC.replace(HEADING, "### Rules");
        assert!(parse(&no_heading).unwrap_err().contains("heading"));
        let bare_name = DOC.replace("| `ivr-reports-transport` |", "| ivr-reports-transport |");
        assert!(parse(&bare_name).unwrap_err().contains("not in backticks"));
        let bare_dep = DOC.replace(
            "`ivr-reports-model` | `tokio` |",
            "ivr-reports-model | `tokio` |",
        );
        assert!(parse(&bare_dep).unwrap_err().contains("not in backticks"));
        let empty = DOC.replace("| none | none |", "|  | none |");
        assert!(parse(&empty).unwrap_err().contains("write `none`"));
        let four = DOC.replace("| none | none |", "| none | none | extra |");
        assert!(parse(&four).unwrap_err().contains("4 cells"));
        let theirs = DOC.replace("| none | none |", "| `tokio` | none |");
        assert!(
            parse(&theirs)
                .unwrap_err()
                .contains("not one of our crates")
        );
    }
}
