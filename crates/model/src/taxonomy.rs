use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::{NiceClass, ValidationError};

/// The taxonomy shipped with shopshield (`crates/model/data/taxonomy.toml`).
const BUILTIN: &str = include_str!("../data/taxonomy.toml");

/// A listing category and the Nice classes of the goods it sells.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Category {
    /// `group/name`, e.g. `apparel/shoes`.
    pub id: String,
    /// A human-readable name.
    pub name: String,
    /// Nice classes (1..=45).
    pub nice: Vec<NiceClass>,
}

/// A problem in a taxonomy file.
#[derive(Debug, thiserror::Error)]
pub enum TaxonomyError {
    #[error("taxonomy is not valid TOML: {0}")]
    Parse(String),
    #[error("category {id:?} appears twice")]
    Duplicate { id: String },
    #[error("category {id:?}: {reason}")]
    Invalid { id: String, reason: String },
}

#[derive(Deserialize)]
struct TaxonomyFile {
    category: Vec<Category>,
}

/// All categories, looked up by id.
#[derive(Debug, Clone)]
pub struct Taxonomy {
    categories: Vec<Category>,
    by_id: HashMap<String, usize>,
}

impl Taxonomy {
    /// The taxonomy shipped with shopshield.
    pub fn builtin() -> Taxonomy {
        // The shipped file is checked by a unit test, so this cannot fail
        // unless the binary was built from a broken tree.
        match Taxonomy::from_toml(BUILTIN) {
            Ok(t) => t,
            Err(e) => panic!("built-in taxonomy is broken: {e}"),
        }
    }

    /// Parses and checks a taxonomy in the format of `taxonomy.toml`.
    pub fn from_toml(text: &str) -> Result<Taxonomy, TaxonomyError> {
        let file: TaxonomyFile =
            toml::from_str(text).map_err(|e| TaxonomyError::Parse(e.to_string()))?;
        let mut by_id = HashMap::new();
        for (i, c) in file.category.iter().enumerate() {
            let Some((group, name)) = c.id.split_once('/') else {
                return Err(TaxonomyError::Invalid {
                    id: c.id.clone(),
                    reason: "id must be group/name".into(),
                });
            };
            if group.is_empty() || name.is_empty() || name.contains('/') {
                return Err(TaxonomyError::Invalid {
                    id: c.id.clone(),
                    reason: "id must be group/name".into(),
                });
            }
            if c.nice.is_empty() || c.nice.iter().any(|n| !(1..=45).contains(n)) {
                return Err(TaxonomyError::Invalid {
                    id: c.id.clone(),
                    reason: "nice must list classes in 1..=45".into(),
                });
            }
            if by_id.insert(c.id.clone(), i).is_some() {
                return Err(TaxonomyError::Duplicate { id: c.id.clone() });
            }
        }
        Ok(Taxonomy {
            categories: file.category,
            by_id,
        })
    }

    pub fn get(&self, id: &str) -> Option<&Category> {
        self.by_id.get(id).map(|&i| &self.categories[i])
    }

    /// Looks up a listing's category, or explains that it is unknown.
    pub fn resolve(&self, field: &str, id: &str) -> Result<&Category, ValidationError> {
        self.get(id).ok_or_else(|| {
            ValidationError::new(
                field,
                format!("unknown category {id:?}; see GET /v1/categories for the taxonomy"),
            )
        })
    }

    pub fn categories(&self) -> &[Category] {
        &self.categories
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_has_required_ids() {
        let t = Taxonomy::from_toml(BUILTIN).unwrap();
        let want: &[(&str, &[u8])] = &[
            ("apparel/clothing", &[25]),
            ("apparel/accessories", &[25, 26]),
            ("electronics/video-games", &[9, 28]),
            ("food/groceries", &[29, 30]),
            ("outdoor/knives-weapons", &[8, 13]),
            ("pets/supplies", &[18, 31]),
            ("tobacco/vaping", &[34]),
        ];
        for (id, nice) in want {
            assert_eq!(t.get(id).unwrap().nice, *nice, "{id}");
        }
        assert_eq!(t.categories().len(), 30);
        assert_eq!(
            t.resolve("category", "cars/boats").unwrap_err().field,
            "category"
        );
    }

    #[test]
    fn rejects_duplicates_and_bad_classes() {
        let dup = "[[category]]\nid='a/b'\nname='x'\nnice=[1]\n[[category]]\nid='a/b'\nname='y'\nnice=[2]\n";
        assert!(matches!(
            Taxonomy::from_toml(dup),
            Err(TaxonomyError::Duplicate { .. })
        ));
        let bad = "[[category]]\nid='a/b'\nname='x'\nnice=[46]\n";
        assert!(matches!(
            Taxonomy::from_toml(bad),
            Err(TaxonomyError::Invalid { .. })
        ));
    }
}
