//! `nvcert list`: the check catalogue as a table, JSON or Markdown.

use anyhow::bail;

use super::{ListArgs, exit};
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
    let (entries, errors) = suite::catalogue(
        &source,
        &Applicability {
            version,
            rule_sets,
            // The catalogue of CAMARA NV (PhoneCheck's checks apply to PhoneCheck profiles).
            family: crate::profile::Family::CamaraNv,
            // The aggregator's checks are listed too (they run against aggregator profiles).
            aggregator: true,
        },
    );
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

fn cell(e: &CatalogueEntry) -> [String; 6] {
    [
        e.tag
            .as_deref()
            .map_or_else(String::new, |t| format!("@{t}")),
        e.level.as_str().to_owned(),
        e.versions(),
        e.rule_set.clone().unwrap_or_else(|| "-".to_owned()),
        format!("{} › {}", e.feature, e.scenario),
        e.citation.clone().unwrap_or_default(),
    ]
}

const HEADINGS: [&str; 6] = ["TAG", "LEVEL", "VERSIONS", "RULE SET", "CHECK", "CITATION"];

fn table(entries: &[CatalogueEntry]) -> String {
    let rows: Vec<[String; 6]> = entries.iter().map(cell).collect();
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
    out.push_str(&format!("{} checks\n", entries.len()));
    out
}

fn markdown(entries: &[CatalogueEntry]) -> String {
    let esc = |s: &str| s.replace('|', "\\|");
    let mut out = String::from(
        "| tag | feature | scenario | level | citation | versions | rule set |\n|---|---|---|---|---|---|---|\n",
    );
    for e in entries {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} |\n",
            e.tag
                .as_deref()
                .map_or_else(String::new, |t| format!("`@{t}`")),
            esc(&e.feature),
            esc(&e.scenario),
            e.level.as_str(),
            esc(e.citation.as_deref().unwrap_or("")),
            e.versions(),
            e.rule_set.as_deref().unwrap_or("-"),
        ));
    }
    out
}
