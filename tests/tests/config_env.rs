//! `MASTRA_HOST` and `PORT` are read when the config does not set host and port. A test binary
//! of its own, because it changes the process environment.

use mastra_runtime::{
    server::config::{DEFAULT_HOST, DEFAULT_PORT},
    ServerConfig,
};

#[test]
fn environment_fills_in_what_the_config_leaves_open_and_config_wins() {
    std::env::remove_var("MASTRA_HOST");
    std::env::remove_var("PORT");
    let config = ServerConfig::default();
    assert_eq!(config.resolved_host(), DEFAULT_HOST);
    assert_eq!(config.resolved_port().unwrap(), DEFAULT_PORT);

    std::env::set_var("MASTRA_HOST", "localhost");
    std::env::set_var("PORT", "8123");
    assert_eq!(config.resolved_host(), "localhost");
    assert_eq!(config.resolved_port().unwrap(), 8123);

    let explicit = ServerConfig::default().host("127.0.0.1").port(9000);
    assert_eq!(explicit.resolved_host(), "127.0.0.1");
    assert_eq!(explicit.resolved_port().unwrap(), 9000);

    std::env::set_var("PORT", "not-a-port");
    let error = config.resolved_port().expect_err("bad PORT");
    assert_eq!(
        error.to_string(),
        "invalid configuration: PORT=\"not-a-port\" is not a port number"
    );
    std::env::remove_var("MASTRA_HOST");
    std::env::remove_var("PORT");
}
