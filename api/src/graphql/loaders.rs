//! DataLoaders: every relation a list can ask for is fetched in one batched query per
//! page, never one query per row. Built per request, so nothing is cached across callers.

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use entities::{case_event, category, citizen, department, rating, region};
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder};
use std::collections::{HashMap, HashSet};
use std::hash::Hash;
use std::sync::Arc;

/// A loader error, shared by every key of the failed batch.
pub type LoadError = Arc<DbErr>;

/// A loader of rows by their primary key.
macro_rules! by_key_loader {
    ($name:ident, $entity:ident, $key:ty, $column:expr, $key_of:expr) => {
        pub struct $name(pub DatabaseConnection);

        impl Loader<$key> for $name {
            type Value = $entity::Model;
            type Error = LoadError;

            async fn load(&self, keys: &[$key]) -> Result<HashMap<$key, Self::Value>, Self::Error> {
                let rows = $entity::Entity::find()
                    .filter($column.is_in(keys.iter().cloned()))
                    .all(&self.0)
                    .await?;
                let key_of: fn(&$entity::Model) -> $key = $key_of;
                Ok(rows.into_iter().map(|row| (key_of(&row), row)).collect())
            }
        }
    };
}

/// A loader of all rows sharing a foreign key, in a stable order.
macro_rules! grouped_loader {
    ($name:ident, $entity:ident, $key:ty, $column:expr, $order:expr, $key_of:expr) => {
        pub struct $name(pub DatabaseConnection);

        impl Loader<$key> for $name {
            type Value = Vec<$entity::Model>;
            type Error = LoadError;

            async fn load(&self, keys: &[$key]) -> Result<HashMap<$key, Self::Value>, Self::Error> {
                let rows = $entity::Entity::find()
                    .filter($column.is_in(keys.iter().cloned()))
                    .order_by_asc($order)
                    .all(&self.0)
                    .await?;
                let key_of: fn(&$entity::Model) -> $key = $key_of;
                let mut groups: HashMap<$key, Self::Value> =
                    keys.iter().map(|k| (k.clone(), Vec::new())).collect();
                for row in rows {
                    groups.entry(key_of(&row)).or_default().push(row);
                }
                Ok(groups)
            }
        }
    };
}

by_key_loader!(RegionLoader, region, String, region::Column::Code, |r| r
    .code
    .clone());
by_key_loader!(
    DepartmentLoader,
    department,
    i32,
    department::Column::Id,
    |d| d.id
);
by_key_loader!(CategoryLoader, category, i32, category::Column::Id, |c| c
    .id);
by_key_loader!(CitizenLoader, citizen, i64, citizen::Column::Id, |c| c.id);

grouped_loader!(
    ChildRegionsLoader,
    region,
    String,
    region::Column::ParentCode,
    region::Column::Code,
    |r| r.parent_code.clone().unwrap_or_default()
);
grouped_loader!(
    RegionDepartmentsLoader,
    department,
    String,
    department::Column::RegionCode,
    department::Column::Id,
    |d| d.region_code.clone()
);
grouped_loader!(
    ChildDepartmentsLoader,
    department,
    i32,
    department::Column::ParentId,
    department::Column::Id,
    |d| d.parent_id.unwrap_or_default()
);
grouped_loader!(
    ChildCategoriesLoader,
    category,
    i32,
    category::Column::ParentId,
    category::Column::Id,
    |c| c.parent_id.unwrap_or_default()
);
grouped_loader!(
    EventsLoader,
    case_event,
    i64,
    case_event::Column::CaseId,
    case_event::Column::Id,
    |e| e.case_id
);
grouped_loader!(
    RatingsLoader,
    rating,
    i64,
    rating::Column::CaseId,
    rating::Column::Id,
    |r| r.case_id
);

/// The loaders of one request.
pub struct Loaders {
    pub regions: DataLoader<RegionLoader, HashMapCache>,
    pub departments: DataLoader<DepartmentLoader, HashMapCache>,
    pub categories: DataLoader<CategoryLoader, HashMapCache>,
    pub citizens: DataLoader<CitizenLoader, HashMapCache>,
    pub child_regions: DataLoader<ChildRegionsLoader, HashMapCache>,
    pub region_departments: DataLoader<RegionDepartmentsLoader, HashMapCache>,
    pub child_departments: DataLoader<ChildDepartmentsLoader, HashMapCache>,
    pub child_categories: DataLoader<ChildCategoriesLoader, HashMapCache>,
    pub events: DataLoader<EventsLoader, HashMapCache>,
    pub ratings: DataLoader<RatingsLoader, HashMapCache>,
    /// Held while [`Loaders::prime`] reads and fills a cache: `edges` and `nodes` of one
    /// page are resolved side by side, and the second must find the first's rows.
    priming: tokio::sync::Mutex<()>,
}

impl Loaders {
    pub fn new(db: &DatabaseConnection) -> Self {
        // Cached per request: a list resolver prefetches a page's relations in one
        // batch, and the per-row resolvers then read from the cache.
        fn make<L: Send + Sync + 'static>(loader: L) -> DataLoader<L, HashMapCache> {
            DataLoader::with_cache(loader, tokio::spawn, HashMapCache::default())
        }
        Self {
            regions: make(RegionLoader(db.clone())),
            departments: make(DepartmentLoader(db.clone())),
            categories: make(CategoryLoader(db.clone())),
            citizens: make(CitizenLoader(db.clone())),
            child_regions: make(ChildRegionsLoader(db.clone())),
            region_departments: make(RegionDepartmentsLoader(db.clone())),
            child_departments: make(ChildDepartmentsLoader(db.clone())),
            child_categories: make(ChildCategoriesLoader(db.clone())),
            events: make(EventsLoader(db.clone())),
            ratings: make(RatingsLoader(db.clone())),
            priming: tokio::sync::Mutex::new(()),
        }
    }

    /// Loads the rows of `keys` not yet in `loader`'s cache in one query and puts them
    /// there, so that the per-row resolvers then find them. A list knows all its keys up
    /// front: this skips the loader's batching delay (1 ms) that `load_many` waits before
    /// each query. Keys already cached (a page asking for both `edges` and `nodes`) are
    /// not read again.
    pub async fn prime<K, L>(
        &self,
        loader: &DataLoader<L, HashMapCache>,
        keys: impl IntoIterator<Item = K>,
    ) -> Result<(), LoadError>
    where
        K: Send + Sync + Hash + Eq + Clone + 'static,
        L: Loader<K, Error = LoadError>,
    {
        let _one_at_a_time = self.priming.lock().await;
        let cached = loader.get_cached_values::<K>();
        let keys: Vec<K> = keys
            .into_iter()
            .filter(|k| !cached.contains_key(k))
            .collect::<HashSet<K>>()
            .into_iter()
            .collect();
        if keys.is_empty() {
            return Ok(());
        }
        let found = loader.loader().load(&keys).await?;
        loader.feed_many(found).await;
        Ok(())
    }
}

impl From<LoadError> for crate::error::ApiError {
    fn from(err: LoadError) -> Self {
        Self::Internal(err.to_string())
    }
}

impl Loaders {
    /// Forgets every cached row: a subscription resolves many items over its life with
    /// one set of loaders, and each item must read the rows as they are then.
    pub fn clear_all(&self) {
        self.regions.clear::<String>();
        self.departments.clear::<i32>();
        self.categories.clear::<i32>();
        self.citizens.clear::<i64>();
        self.child_regions.clear::<String>();
        self.region_departments.clear::<String>();
        self.child_departments.clear::<i32>();
        self.child_categories.clear::<i32>();
        self.events.clear::<i64>();
        self.ratings.clear::<i64>();
    }
}
