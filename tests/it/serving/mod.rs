//! The listeners: graceful shutdown, deadlines, TLS, pass-through to the
//! app, and hot reload.

mod deadlines;
mod passthrough;
mod reload;
mod reload_watch;
mod server;
mod tls;
mod workers;
