//! `bridge`: the operator's command (see [`bridge_operator::cli`]).

#[tokio::main]
async fn main() {
    std::process::exit(bridge_operator::cli::main(std::env::args_os()).await);
}
