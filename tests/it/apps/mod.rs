//! Apps of other shapes than the bundled one, in-test, each behind its
//! shipped config (`config/*.toml`), and mapping features the bundled app
//! does not exercise.

mod mapping_features;
mod more_shapes;
mod shapes;
