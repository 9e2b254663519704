//! The HTTP edge: the public and admin listeners, their accept loops,
//! connection limits and graceful shutdown.

pub mod accept;
pub mod access;
pub mod admin;
pub mod budget;
pub mod conn;
pub mod observe;
pub mod server;
pub mod tls;
