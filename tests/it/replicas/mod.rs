//! Several replicas behaving as one: N `scim-sidecar run` processes in
//! front of one app, the IdP's concurrent workers spread over them
//! ([`harness`]), and the cases every deployment meets ([`cases`]): what
//! holds across replicas without shared coordination ([`local`]), and
//! with a real Redis shared by them, faults of the store included
//! ([`shared`]).

mod cases;
mod harness;
mod local;
mod shared;
