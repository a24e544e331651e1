//! Organisations and people: what `helpdesk admin ...` and the admin pages both do.

use super::{Service, ServiceError};
use crate::model::*;

impl Service {
    /// A new subscriber organisation; `plan` defaults to the first configured plan.
    pub async fn create_org(
        &self,
        name: &str,
        sector: &str,
        plan: Option<&str>,
        share_tickets: bool,
    ) -> Result<Org, ServiceError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 120 {
            return Err(ServiceError::Invalid("name".into()));
        }
        let (sector, plan) = self.checked_sector_and_plan(sector, plan)?;
        let org = Org {
            id: crate::auth::random_token(9),
            name: name.to_owned(),
            sector,
            plan,
            share_tickets,
            created: self.clock.now(),
        };
        self.store.create_org(&org).await?;
        Ok(org)
    }

    /// Changes an organisation's sector, plan and ticket sharing.
    pub async fn update_org(
        &self,
        org: &Org,
        sector: &str,
        plan: &str,
        share_tickets: bool,
    ) -> Result<Org, ServiceError> {
        let (sector, plan) = self.checked_sector_and_plan(sector, Some(plan))?;
        let org = Org { sector, plan, share_tickets, ..org.clone() };
        self.store.update_org(&org).await?;
        Ok(org)
    }

    fn checked_sector_and_plan(&self, sector: &str, plan: Option<&str>) -> Result<(String, String), ServiceError> {
        if !self.config.sectors.iter().any(|s| s.id == sector) {
            let known: Vec<_> = self.config.sectors.iter().map(|s| s.id.as_str()).collect();
            return Err(ServiceError::Invalid(format!("unknown sector `{sector}` (known: {})", known.join(", "))));
        }
        let plan = match plan {
            Some(p) if self.config.plans.iter().any(|x| x.id == p) => p.to_owned(),
            Some(p) => return Err(ServiceError::Invalid(format!("unknown plan `{p}`"))),
            None => self.config.plans.first().map(|p| p.id.clone()).unwrap_or_default(),
        };
        Ok((sector.to_owned(), plan))
    }

    /// Changes someone's role, or (de)activates the account: a deactivated account cannot log
    /// in, and its sessions end at once.
    pub async fn update_person(&self, user: &User, role: Role, active: bool) -> Result<User, ServiceError> {
        let updated = User { role, active, ..user.clone() };
        self.store.update_user(&updated).await?;
        if !active || role != user.role {
            // A new role or no access: every session starts over.
            self.store.delete_user_sessions(&user.id).await?;
        }
        Ok(updated)
    }
}
