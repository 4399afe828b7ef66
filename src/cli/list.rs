//! `nvcert list`: the check catalogue as a table, JSON or Markdown: every family's checks
//! (CAMARA NV's, then PhoneCheck's), each marked with its family and the profile dialect that
//! selects it.

use anyhow::bail;

use super::{ListArgs, exit};
use crate::profile::Family;
use crate::suite::{self, Applicability, CatalogueEntry, FeatureSource};

pub(super) fn list(args: &ListArgs) -> anyhow::Result<u8> {
    let version = match &args.spec_version {
        Some(v) => {
            let v = v.strip_prefix('v').unwrap_or(v);
            if !crate::spec::builtin_versions().contains(&v) {
                bail!(
                    "--spec-version: expected one of {}, found {v:?}",
                    crate::spec::builtin_versions().join(", ")
                );
            }
            Some(v.to_owned())
        }
        None => None,
    };
    let mut rule_sets = args.rule_sets.clone();
    if version.as_deref() == Some("wip") && !rule_sets.iter().any(|r| r == "wip") {
        rule_sets.push("wip".to_owned());
    }
    let source = if args.features.is_empty() {
        FeatureSource::Builtin
    } else {
        FeatureSource::Paths(args.features.clone())
    };
    // Every family's checks, each marked with its family (and the dialect selecting it).
    let mut entries = Vec::new();
    let mut errors: Vec<String> = Vec::new();
    for family in Family::ALL {
        let (found, problems) = suite::catalogue(
            &source,
            &Applicability {
                version: version.clone(),
                rule_sets: rule_sets.clone(),
                family,
                // The aggregator's checks are listed too (they run against aggregator profiles).
                aggregator: true,
            },
        );
        entries.extend(found);
        // Each family reads the same files: a problem with one is said once.
        for p in problems {
            if !errors.contains(&p) {
                errors.push(p);
            }
        }
    }
    for e in &errors {
        eprintln!("nvcert: {e}");
    }
    let text = match args.format.as_str() {
        "json" => {
            let mut t = serde_json::to_string_pretty(&entries)?;
            t.push('\n');
            t
        }
        "markdown" => markdown(&entries),
        _ => table(&entries),
    };
    print!("{text}");
    Ok(if errors.is_empty() {
        exit::OK
    } else {
        exit::USAGE_OR_CONFIG
    })
}

/// The versions column: the CAMARA versions a check applies to; `-` for a family judged by its
/// own document (selected by a dialect), which no CAMARA version gates.
fn versions(e: &CatalogueEntry) -> String {
    match e.dialect {
        Some(_) => "-".to_owned(),
        None => e.versions(),
    }
}

fn cell(e: &CatalogueEntry) -> [String; 7] {
    [
        e.tag
            .as_deref()
            .map_or_else(String::new, |t| format!("@{t}")),
        e.family.to_owned(),
        e.level.as_str().to_owned(),
        versions(e),
        e.rule_set.clone().unwrap_or_else(|| "-".to_owned()),
        format!("{} › {}", e.feature, e.scenario),
        e.citation.clone().unwrap_or_default(),
    ]
}

const HEADINGS: [&str; 7] = [
    "TAG", "FAMILY", "LEVEL", "VERSIONS", "RULE SET", "CHECK", "CITATION",
];

fn table(entries: &[CatalogueEntry]) -> String {
    let rows: Vec<[String; 7]> = entries.iter().map(cell).collect();
    let mut widths = HEADINGS.map(|h| h.chars().count());
    for row in &rows {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let mut out = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                out.push_str(c);
            } else {
                out.push_str(c);
                out.push_str(&" ".repeat(widths[i] - c.chars().count() + 2));
            }
        }
        out.trim_end().to_owned() + "\n"
    };
    let mut out = line(&HEADINGS.map(str::to_owned));
    for row in &rows {
        out.push_str(&line(row));
    }
    // Per family: how many checks, and what selects it.
    for family in Family::ALL {
        let count = entries.iter().filter(|e| e.family == family.name()).count();
        if count > 0 {
            out.push_str(&format!(
                "{}: {count} checks of {}{}\n",
                family.name(),
                family.title(),
                family.dialect().map_or_else(String::new, |d| format!(
                    ", for profiles with dialect = \"{d}\""
                ))
            ));
        }
    }
    out.push_str(&format!("{} checks\n", entries.len()));
    out
}

fn markdown(entries: &[CatalogueEntry]) -> String {
    let esc = |s: &str| s.replace('|', "\\|");
    let mut out = String::from(
        "| tag | family | feature | scenario | level | citation | versions | rule set |\n|---|---|---|---|---|---|---|---|\n",
    );
    for e in entries {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |\n",
            e.tag
                .as_deref()
                .map_or_else(String::new, |t| format!("`@{t}`")),
            e.dialect.map_or_else(
                || e.family.to_owned(),
                |d| format!("{} (dialect `{d}`)", e.family)
            ),
            esc(&e.feature),
            esc(&e.scenario),
            e.level.as_str(),
            esc(e.citation.as_deref().unwrap_or("")),
            versions(e),
            e.rule_set.as_deref().unwrap_or("-"),
        ));
    }
    out
}
