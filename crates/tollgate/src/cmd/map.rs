//! `tollgate map`: the route inventory.

use std::process::ExitCode;

use tollgate_core::render::map;

use crate::cli::{GlobalArgs, MapArgs, MapFormat};
use crate::{input, output};

pub fn run(args: &MapArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let loaded = input::load(&args.input, global.quiet)?;
    for e in loaded.errors.iter().chain(&loaded.warnings) {
        if !global.quiet {
            eprintln!("tollgate: {e}");
        }
    }
    let inv = &loaded.inventory;
    let text = match args.format {
        MapFormat::Table => map::table(
            inv,
            output::use_color(global.color, global.output.as_deref()),
        ),
        MapFormat::Json => map::json(inv),
        MapFormat::Dot => map::dot(inv),
        MapFormat::Mermaid => map::mermaid(inv),
    };
    output::write(global.output.as_deref(), &text)?;
    Ok(ExitCode::SUCCESS)
}
