//! The in-memory store behind the demo app: users and teams keyed by numeric
//! id (so listing order is stable), id assignment, uniqueness rules, version
//! bumps and membership bookkeeping. It knows nothing about HTTP beyond
//! returning [`ApiError`]s for rule violations.

use std::collections::BTreeMap;

use serde_json::Value;

use super::model::{State, Team, User, UserFields, now, team_id_string};
use super::reply::{ApiError, Page};

/// First id handed to a user.
const FIRST_USER_ID: u64 = 1001;

/// Filters of `GET /api/users`; all given filters must match.
#[derive(Default)]
pub(super) struct UserFilter<'a> {
    /// Login, compared case-insensitively.
    pub(super) login: Option<&'a str>,
    /// `contact.email`, compared case-insensitively.
    pub(super) email: Option<&'a str>,
    /// `external_id`, compared exactly.
    pub(super) external_id: Option<&'a str>,
}

impl UserFilter<'_> {
    fn matches(&self, user: &User) -> bool {
        let fields = &user.fields;
        let login_ok = self.login.is_none_or(|login| fields.login_matches(login));
        let email_ok = self.email.is_none_or(|wanted| {
            let email = fields.contact.email.as_deref();
            email.is_some_and(|e| e.to_lowercase() == wanted.to_lowercase())
        });
        let external_ok = self
            .external_id
            .is_none_or(|wanted| fields.external_id.as_deref() == Some(wanted));
        login_ok && email_ok && external_ok
    }
}

/// All users and teams.
pub(super) struct Store {
    users: BTreeMap<u64, User>,
    teams: BTreeMap<u64, Team>,
    next_user: u64,
    next_team: u64,
    /// Whether a login may be held by one user only (the app's own rule;
    /// off, the app stores whatever it is sent, as some apps do).
    pub(super) unique_logins: bool,
}

impl Store {
    /// An empty store.
    pub(super) fn new() -> Self {
        Self {
            users: BTreeMap::new(),
            teams: BTreeMap::new(),
            next_user: FIRST_USER_ID,
            next_team: 1,
            unique_logins: true,
        }
    }

    /// Number of users.
    pub(super) fn user_count(&self) -> usize {
        self.users.len()
    }

    /// The user with this id.
    pub(super) fn user(&self, id: u64) -> Option<&User> {
        self.users.get(&id)
    }

    /// All users, in id order.
    pub(super) fn all_users(&self) -> impl Iterator<Item = &User> {
        self.users.values()
    }

    /// One page of matching users (as JSON) and the number of matches.
    pub(super) fn list_users(&self, filter: &UserFilter<'_>, page: Page) -> (Vec<Value>, usize) {
        let matching = || self.users.values().filter(|u| filter.matches(u));
        let items = page.apply(matching().map(User::to_json));
        (items, matching().count())
    }

    fn ensure_login_free(&self, login: &str, except: Option<u64>) -> Result<(), ApiError> {
        if !self.unique_logins {
            return Ok(());
        }
        let clash = self
            .users
            .values()
            .any(|u| Some(u.id) != except && u.fields.login_matches(login));
        if clash {
            let message = format!("login `{login}` is already taken");
            return Err(ApiError::taken("login", message));
        }
        Ok(())
    }

    /// Adds a user and returns its new id (422 if the login is taken).
    pub(super) fn create_user(&mut self, fields: UserFields) -> Result<u64, ApiError> {
        self.ensure_login_free(&fields.login, None)?;
        let id = self.next_user;
        self.next_user += 1;
        let at = now();
        let user = User {
            id,
            fields,
            created_at: at,
            updated_at: at,
            version: 1,
        };
        self.users.insert(id, user);
        Ok(id)
    }

    /// Replaces a user's writable fields, bumping `version` if anything changed.
    pub(super) fn update_user(&mut self, id: u64, fields: UserFields) -> Result<Value, ApiError> {
        self.ensure_login_free(&fields.login, Some(id))?;
        let user = self.users.get_mut(&id).ok_or_else(|| user_not_found(id))?;
        if user.fields != fields {
            user.fields = fields;
            touch_user(user);
        }
        Ok(user.to_json())
    }

    /// Moves a user to `state`; 409 `conflict_code` if it is already there.
    pub(super) fn set_state(
        &mut self,
        id: u64,
        state: State,
        conflict_code: &'static str,
    ) -> Result<Value, ApiError> {
        let user = self.users.get_mut(&id).ok_or_else(|| user_not_found(id))?;
        if user.fields.state == state {
            let message = format!("user {id} is already {state:?}").to_lowercase();
            return Err(ApiError::conflict(conflict_code, message));
        }
        user.fields.state = state;
        touch_user(user);
        Ok(user.to_json())
    }

    /// Removes a user and all its team memberships.
    pub(super) fn delete_user(&mut self, id: u64) -> Result<(), ApiError> {
        self.users.remove(&id).ok_or_else(|| user_not_found(id))?;
        let at = now();
        for team in self.teams.values_mut() {
            if team.members.remove(&id) {
                team.updated_at = at;
            }
        }
        Ok(())
    }

    /// The team with this id.
    pub(super) fn team(&self, id: u64) -> Option<&Team> {
        self.teams.get(&id)
    }

    /// One page of teams (exact `name` filter) as JSON, and the match count.
    pub(super) fn list_teams(&self, name: Option<&str>, page: Page) -> (Vec<Value>, usize) {
        let matching = || {
            let teams = self.teams.values();
            teams.filter(move |t| name.is_none_or(|n| t.name == n))
        };
        (
            page.apply(matching().map(Team::to_json)),
            matching().count(),
        )
    }

    fn ensure_name_free(&self, name: &str, except: Option<u64>) -> Result<(), ApiError> {
        if self
            .teams
            .values()
            .any(|t| Some(t.id) != except && t.name == name)
        {
            let message = format!("team name `{name}` is already taken");
            return Err(ApiError::taken("name", message));
        }
        Ok(())
    }

    /// Adds a team (422 if the name is taken) and returns it as JSON.
    pub(super) fn create_team(
        &mut self,
        name: String,
        external_id: Option<String>,
    ) -> Result<Value, ApiError> {
        self.ensure_name_free(&name, None)?;
        let id = self.next_team;
        self.next_team += 1;
        let at = now();
        let team = Team {
            id,
            name,
            external_id,
            members: Default::default(),
            created_at: at,
            updated_at: at,
        };
        let json = team.to_json();
        self.teams.insert(id, team);
        Ok(json)
    }

    /// Renames a team (422 if the name is taken by another team) and sets
    /// or clears its external id when the body names it.
    pub(super) fn update_team(
        &mut self,
        id: u64,
        name: Option<String>,
        external_id: Option<Option<String>>,
    ) -> Result<Value, ApiError> {
        if let Some(name) = &name {
            self.ensure_name_free(name, Some(id))?;
        }
        let team = self.teams.get_mut(&id).ok_or_else(|| team_not_found(id))?;
        if let Some(name) = name.filter(|n| *n != team.name) {
            team.name = name;
            team.updated_at = now();
        }
        if let Some(external_id) = external_id.filter(|e| *e != team.external_id) {
            team.external_id = external_id;
            team.updated_at = now();
        }
        Ok(team.to_json())
    }

    /// Removes a team.
    pub(super) fn delete_team(&mut self, id: u64) -> Result<(), ApiError> {
        self.teams
            .remove(&id)
            .map(drop)
            .ok_or_else(|| team_not_found(id))
    }

    /// One page of a team's members as `{"user_id", "login"}`, and the total.
    pub(super) fn members(&self, id: u64, page: Page) -> Result<(Vec<Value>, usize), ApiError> {
        let team = self.teams.get(&id).ok_or_else(|| team_not_found(id))?;
        let member = |user_id: &u64| {
            let login = self.users.get(user_id).map(|u| u.fields.login.as_str());
            serde_json::json!({"user_id": user_id.to_string(), "login": login})
        };
        Ok((
            page.apply(team.members.iter().map(member)),
            team.members.len(),
        ))
    }

    /// Adds a member (idempotent); 404 if the team or the user is unknown.
    pub(super) fn add_member(&mut self, id: u64, user_id: Option<u64>) -> Result<(), ApiError> {
        let known_user = user_id.filter(|u| self.users.contains_key(u));
        let team = self.teams.get_mut(&id).ok_or_else(|| team_not_found(id))?;
        let user_id = known_user.ok_or_else(|| ApiError::not_found("user not found"))?;
        if team.members.insert(user_id) {
            team.updated_at = now();
        }
        Ok(())
    }

    /// Removes a member; 404 if the team is unknown or the user not a member.
    pub(super) fn remove_member(&mut self, id: u64, user_id: Option<u64>) -> Result<(), ApiError> {
        let team = self.teams.get_mut(&id).ok_or_else(|| team_not_found(id))?;
        let removed = user_id.is_some_and(|u| team.members.remove(&u));
        if !removed {
            return Err(ApiError::not_found("user is not a member of this team"));
        }
        team.updated_at = now();
        Ok(())
    }
}

fn touch_user(user: &mut User) {
    user.version += 1;
    user.updated_at = now();
}

/// 404 for an unknown user id.
pub(super) fn user_not_found(id: u64) -> ApiError {
    ApiError::not_found(format!("user {id} not found"))
}

/// 404 for an unknown team id.
pub(super) fn team_not_found(id: u64) -> ApiError {
    ApiError::not_found(format!("team {} not found", team_id_string(id)))
}
