//! `tollgate migrate --to gateway-api`: what each ingress-nginx Ingress becomes under the Gateway
//! API, and the annotations that have no equivalent.

use std::process::ExitCode;

use tollgate_core::migrate::{self, Implementation, MigrateOptions};
use tollgate_core::render::migrate as render;

use crate::cli::{GlobalArgs, MigrateArgs, MigrateFormat, MigrateImplementation, MigrateTarget};
use crate::{input, output};

pub fn run(args: &MigrateArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    // One target today; the match makes a second one a compile error here rather than a silent
    // Gateway API translation.
    match args.target {
        MigrateTarget::GatewayApi => {}
    }
    let loaded = input::load(&args.input, global.quiet)?;
    for e in loaded.errors.iter().chain(&loaded.warnings) {
        if !global.quiet {
            eprintln!("tollgate: {e}");
        }
    }
    let options = MigrateOptions {
        gateway_class: args.gateway_class.clone(),
        implementation: match args.implementation {
            MigrateImplementation::EnvoyGateway => Implementation::EnvoyGateway,
            MigrateImplementation::None => Implementation::None,
        },
    };
    let plan = migrate::plan(&loaded.inventory, &options);
    let text = match args.format {
        MigrateFormat::Markdown => render::markdown(&plan),
        MigrateFormat::Json => render::json(&plan),
        MigrateFormat::Yaml => render::yaml(&plan),
    };
    if !global.quiet && args.format == MigrateFormat::Yaml {
        let warnings: usize = plan
            .ingresses
            .iter()
            .map(|p| p.warnings.len())
            .sum::<usize>()
            + plan.warnings.len();
        if warnings > 0 {
            eprintln!(
                "tollgate: {warnings} warning{} about the translation: read them with --format \
                 markdown before applying",
                if warnings == 1 { "" } else { "s" }
            );
        }
    }
    output::write(global.output.as_deref(), &text)?;
    Ok(ExitCode::SUCCESS)
}
