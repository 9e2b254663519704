//! The sidecar's calls to the app: the gate and the connection pool in
//! front of it, write plans, and what the sidecar answers when the app
//! misbehaves (the fault matrix, answers of odd shapes).

mod app_limits;
mod app_pool;
mod fault_matrix;
mod odd_answers;
mod users_failures;
mod write_plans;
