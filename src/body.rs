//! The one body type used end to end, and constructors for locally generated
//! bodies. Pass-through maps incoming bodies into it without buffering;
//! responses the sidecar writes itself are built from bytes.

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full, combinators::BoxBody};

/// Body of every request and response the sidecar handles.
pub type Body = BoxBody<Bytes, hyper::Error>;

/// A body holding `bytes` in full.
pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed()
}

/// An empty body.
pub fn empty() -> Body {
    Empty::<Bytes>::new()
        .map_err(|never| match never {})
        .boxed()
}
