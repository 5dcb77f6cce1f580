//! Every row of the code tables in `tests/fixtures/code-tables.md` (a verbatim copy of the
//! project's `spec/code-tables.md`) against the model's tables: ids, names, groups, permanent.
//!
//! The spec is parsed, not transcribed, so a row added to the spec and copied here is checked
//! without touching this file. Where the code pages and real traffic disagree on a group, the
//! spec gives both and says to follow real traffic: the expected group is the real one.

use ivr_reports_model::{ErrorGroup, StatusGroup, error_info, status_info};

const SPEC: &str = include_str!("../fixtures/code-tables.md");

/// The lines of the section whose heading starts with `### {number}`.
fn section(number: &str) -> Vec<&'static str> {
    let heading = format!("### {number} ");
    SPEC.lines()
        .skip_while(|l| !l.starts_with(&heading))
        .skip(1)
        .take_while(|l| !l.starts_with("### ") && !l.starts_with("---"))
        .collect()
}

/// The cells of a table row (`| a | b |`), trimmed; `None` for other lines, the header and
/// the separator.
fn cells(line: &str) -> Option<Vec<&str>> {
    let inner = line.trim().strip_prefix('|')?.strip_suffix('|')?;
    let cells: Vec<&str> = inner.split('|').map(str::trim).collect();
    let first = cells.first()?;
    first
        .chars()
        .next()
        .filter(char::is_ascii_digit)
        .map(|_| cells)
}

/// The ids of a cell like `6, 8, 10–14, 51` or `96 / 97 / 98`.
fn ids(cell: &str) -> Vec<u32> {
    let mut out = Vec::new();
    for part in cell.split([',', '/']).map(str::trim) {
        match part.split_once('–') {
            Some((a, b)) => {
                out.extend(a.trim().parse::<u32>().unwrap()..=b.trim().parse().unwrap())
            }
            None => out.push(part.parse().unwrap()),
        }
    }
    out
}

/// The names of a cell like `NO_ANSWER / BUSY / CANCELLED` or `A, B, C`.
fn names(cell: &str) -> Vec<&str> {
    cell.split([',', '/']).map(str::trim).collect()
}

/// The leading group id of a cell like `3`, `0 OK` or `**2 USER_ERRORS** (2018 data; ...)`.
fn group_id(cell: &str) -> Option<u32> {
    let digits: String = cell
        .trim_start_matches('*')
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// `(id, NAME)` pairs from an inline list like `53 REJECTED_X · 54 REJECTED_Y (note) · ...`.
fn inline_codes(list: &str) -> Vec<(u32, &str)> {
    list.split('·')
        .map(|item| {
            let mut words = item.split_whitespace();
            let id = words.next().unwrap().parse().unwrap();
            let name = words.next().unwrap().trim_end_matches(['.', ',']);
            (id, name)
        })
        .collect()
}

fn check_status(id: u32, name: &str, group: u32, seen: &mut Vec<u32>) {
    let ours = status_info(id).unwrap_or_else(|| panic!("status {id} {name} is missing"));
    assert_eq!(ours.name, name, "name of status {id}");
    assert_eq!(
        ours.group,
        StatusGroup::from_id(group),
        "group of status {id}"
    );
    seen.push(id);
}

#[test]
fn every_status_row_of_the_spec_is_ours() {
    let mut seen = Vec::new();
    let lines = section("5.2");
    for row in lines.iter().filter_map(|l| cells(l)) {
        let (ids, names) = (ids(row[0]), names(row[1]));
        assert_eq!(ids.len(), names.len(), "row {row:?}");
        let group = group_id(row[2]).unwrap();
        for (id, name) in ids.into_iter().zip(names) {
            check_status(id, name, group, &mut seen);
        }
    }
    let voice = lines
        .iter()
        .skip_while(|l| !l.starts_with("Voice-specific REJECTED"))
        .nth(1)
        .expect("the voice-specific list");
    for (id, name) in inline_codes(voice) {
        // 87 is SIGNALS_BLOCKED in the general table; ours is a voice table.
        check_status(id, name, 5, &mut seen);
    }
    // The status groups of 5.1, by id and name.
    for row in section("5.1").iter().filter_map(|l| cells(l)) {
        let group = StatusGroup::from_id(row[0].parse().unwrap());
        assert_eq!(group.name(), Some(row[1]), "status group {}", row[0]);
    }
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen.len(), 47, "rows read from the spec: {seen:?}");
}

#[test]
fn every_error_row_of_the_spec_is_ours() {
    let mut seen = 0;
    // 5.3: the error groups, and the general 0 NO_ERROR.
    let groups = section("5.3").join(" ");
    for (id, name) in [
        (0, "OK"),
        (1, "HANDSET_ERRORS"),
        (2, "USER_ERRORS"),
        (3, "OPERATOR_ERRORS"),
    ] {
        assert!(
            groups.contains(&format!("{id} {name}")),
            "spec lists group {id} {name}"
        );
        assert_eq!(ErrorGroup::from_id(id).name(), Some(name));
    }
    let none = error_info(0).unwrap();
    assert!(groups.contains("`0 NO_ERROR` (group 0, permanent false)"));
    assert_eq!(
        (none.name, none.group, none.permanent),
        ("NO_ERROR", ErrorGroup::Ok, false)
    );

    // 5.4: | id | name | permanent | group per CODES scrape | group seen in real data | ...
    for row in section("5.4").iter().filter_map(|l| cells(l)) {
        let id: u32 = row[0].parse().unwrap();
        let ours = error_info(id).unwrap_or_else(|| panic!("error {id} is missing"));
        assert_eq!(ours.name, row[1], "name of error {id}");
        assert_eq!(ours.permanent, row[2] == "true", "permanent of error {id}");
        let group = group_id(row[4]).or_else(|| group_id(row[3])).unwrap();
        assert_eq!(
            ours.group,
            ErrorGroup::from_id(group),
            "group of error {id}"
        );
        seen += 1;
    }
    assert_eq!(seen, 24, "legacy rows read from the spec");

    // 5.5: `Group N (...): 10000 NAME · ...`, all permanent.
    let lines = section("5.5");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("All listed with permanent = true"))
    );
    for line in lines.iter().filter(|l| l.starts_with("Group ")) {
        let group = group_id(&line["Group ".len()..]).unwrap();
        let (_, list) = line.split_once("): ").unwrap();
        for (id, name) in inline_codes(list) {
            let ours = error_info(id).unwrap_or_else(|| panic!("error {id} {name} is missing"));
            assert_eq!(ours.name, name, "name of error {id}");
            assert_eq!(
                ours.group,
                ErrorGroup::from_id(group),
                "group of error {id}"
            );
            assert!(ours.permanent, "permanent of error {id}");
            seen += 1;
        }
    }
    assert_eq!(seen, 24 + 31, "rows read from the spec");
}
