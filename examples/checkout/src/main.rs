//! `checkout-demo`: see the library documentation.

use checkout_demo::cli::{self, Command};
use std::process::ExitCode;

fn main() -> ExitCode {
    let command = match cli::parse(std::env::args().skip(1)) {
        Ok(command) => command,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let outcome = match command {
        Command::Demo { orders } => {
            checkout_demo::orchestrator::run(orders, &mut std::io::stdout().lock())
        }
        Command::Service(args) => checkout_demo::services::run(args),
        Command::Help => {
            println!("{}", cli::USAGE);
            Ok(())
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("checkout-demo: {message}");
            ExitCode::FAILURE
        }
    }
}
