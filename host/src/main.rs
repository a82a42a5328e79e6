//! The `img-stream` command; everything but exit codes is in the library.

use std::process::ExitCode;

fn main() -> ExitCode {
    match img_stream_host::run(std::env::args_os()) {
        Ok(code) => code,
        Err(err) => {
            // Output piped into a closed reader is not a failure.
            if err
                .chain()
                .filter_map(|e| e.downcast_ref::<std::io::Error>())
                .any(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            {
                return ExitCode::SUCCESS;
            }
            eprintln!("img-stream: {err:#}");
            ExitCode::from(2)
        }
    }
}
