//! Several replicas behaving as one: N `scim-sidecar run` processes in
//! front of one app, the IdP's concurrent workers spread over them
//! ([`harness`]), and the cases every deployment meets ([`cases`]): what
//! holds across replicas without shared coordination ([`local`]).

mod cases;
mod harness;
mod local;
