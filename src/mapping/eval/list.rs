//! Lists on the app: the page read from a list answer (items, total,
//! next cursor; an answer without the list is an error, not an empty
//! page), the list call's paging style and page-size cap, and the host
//! calls that make up one SCIM page.

use http::HeaderMap;
use serde_json::Value;

use crate::mapping::error::MapError;
use crate::mapping::eval::headers;
use crate::mapping::model::mapping::ResourceMapping;
use crate::mapping::model::ops::{ListSpec, OpKind, Page, PageRequest, Paging};

impl ResourceMapping {
    /// Extracts items, total and next cursor from a list response.
    pub fn extract_page(&self, body: Value) -> Result<Page, MapError> {
        self.extract_page_with(OpKind::List, body, &HeaderMap::new())
    }

    /// Extracts a page from the answer of the list operation `kind`, its
    /// `total` and `next` read from the answer's headers where the
    /// mapping says `header:<Name>`; the items are moved out of the
    /// answer, not copied.
    pub fn extract_page_with(
        &self,
        kind: OpKind,
        mut body: Value,
        headers: &HeaderMap,
    ) -> Result<Page, MapError> {
        let spec = self
            .list_spec_of(kind)
            .ok_or_else(|| MapError::BadResponse("no list operation".into()))?;
        // Everything but the items is read before they are moved out.
        let container_is_list = spec
            .items_container
            .as_ref()
            .and_then(|c| c.one(&body))
            .is_some_and(|c| c.is_array() || c.is_object());
        let total = match spec.total.as_ref().and_then(|p| p.one(&body)) {
            None => spec
                .total_header
                .as_ref()
                .and_then(|h| headers::total_of(headers, h)),
            Some(Value::Number(n)) => n.as_u64(),
            Some(Value::String(s)) => s.trim().parse().ok(),
            Some(_) => None,
        };
        let next_cursor = spec
            .next
            .as_ref()
            .and_then(|p| p.one(&body))
            .and_then(|v| match v {
                Value::String(s) if !s.is_empty() => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .or_else(|| {
                let h = spec.next_header.as_ref()?;
                headers::next_of(headers, h)
            });
        let mut items = spec.items.take_all(&mut body);
        let mut has_list = false;
        if let [Value::Array(a)] = items.as_mut_slice() {
            items = std::mem::take(a);
            has_list = true;
        }
        // An answer without the list is not an empty list: an app in
        // maintenance mode answering `200 {"error": …}` must not make an
        // IdP believe a user does not exist (and create a duplicate).
        if !(has_list || !items.is_empty() || container_is_list) {
            return Err(MapError::BadResponse(format!(
                "the list answer has nothing at `{}`",
                spec.items_source
            )));
        }
        Ok(Page {
            items,
            total,
            next_cursor,
        })
    }

    fn list_spec(&self) -> Option<&ListSpec> {
        self.list_spec_of(OpKind::List)
    }

    fn list_spec_of(&self, kind: OpKind) -> Option<&ListSpec> {
        self.op(kind).and_then(|o| o.list.as_ref())
    }

    /// The list paging style (`Paging::None` without a list op).
    pub fn paging(&self) -> Paging {
        self.paging_of(OpKind::List)
    }

    /// The paging style of the list operation `kind`.
    pub fn paging_of(&self, kind: OpKind) -> Paging {
        self.list_spec_of(kind).map_or(Paging::None, |s| s.paging)
    }

    /// The app's page-size cap.
    pub fn max_page_size(&self) -> Option<u64> {
        self.max_page_size_of(OpKind::List)
    }

    /// The page-size cap of the list operation `kind`.
    pub fn max_page_size_of(&self, kind: OpKind) -> Option<u64> {
        self.list_spec_of(kind).and_then(|s| s.max_page_size)
    }

    /// Whether listed items must each be fetched with `get`.
    pub fn fetch_each(&self) -> bool {
        self.list_spec().is_some_and(|s| s.fetch_each)
    }

    /// Plans the host list calls for SCIM `startIndex` (1-based) and `count`
    /// under the paging style and page-size cap. Offset paging maps exactly;
    /// page paging uses a fixed page size (the cap, else `count`) and skips
    /// into the first page. Cursor and none paging return one unbounded
    /// request: the handler walks cursors / slices the full list itself.
    pub fn plan_pages(&self, start_index: u64, count: u64) -> Vec<PageRequest> {
        let start = start_index.max(1) - 1;
        let size = self
            .max_page_size()
            .map_or(count, |c| c.min(count.max(1)).max(1));
        if count == 0 {
            return Vec::new();
        }
        match self.paging() {
            Paging::Offset { base } => (0..count.div_ceil(size))
                .map(|i| {
                    let off = start + i * size;
                    let take = size.min(count - i * size);
                    PageRequest {
                        offset: Some(off + base),
                        limit: Some(take),
                        page: None,
                        skip: 0,
                        take: take as usize,
                    }
                })
                .collect(),
            Paging::Page { base } => {
                let per = self.max_page_size().unwrap_or(count).max(1);
                let (first, last) = (start / per, (start + count - 1) / per);
                (first..=last)
                    .map(|p| {
                        let lo = (p * per).max(start);
                        let hi = ((p + 1) * per).min(start + count);
                        PageRequest {
                            offset: None,
                            limit: Some(per),
                            page: Some(p + base),
                            skip: (lo - p * per) as usize,
                            take: (hi - lo) as usize,
                        }
                    })
                    .collect()
            }
            Paging::Cursor | Paging::None => vec![PageRequest {
                offset: None,
                limit: self.max_page_size(),
                page: None,
                skip: 0,
                take: count as usize,
            }],
        }
    }
}
