//! The `minyi` binary: everything lives in the library; this only reports the outcome.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match minyi::cli::run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}
