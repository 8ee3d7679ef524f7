use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::ValidationError;

/// The 249 officially assigned ISO 3166-1 alpha-2 codes.
const ISO_3166_1_ALPHA2: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ \
BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ \
CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ \
DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR \
GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY \
HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP \
KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY \
MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ \
NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY \
QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ \
TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ \
VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

/// A market: an ISO 3166-1 alpha-2 country code, or `*` for every region.
///
/// Rights name the regions they are registered in; a listing names the one
/// region it is sold in (never `*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Region([u8; 2]);

impl Region {
    /// The wildcard `*`: every region.
    pub const ALL: Region = Region([b'*', b'*']);

    /// Parses `US`, `gb` (case-insensitive) or `*`.
    pub fn parse(field: &str, s: &str) -> Result<Region, ValidationError> {
        if s == "*" {
            return Ok(Region::ALL);
        }
        let upper = s.to_ascii_uppercase();
        if upper.len() == 2 && ISO_3166_1_ALPHA2.split(' ').any(|c| c == upper) {
            let b = upper.as_bytes();
            return Ok(Region([b[0], b[1]]));
        }
        Err(ValidationError::new(
            field,
            format!("{s:?} is not an ISO 3166-1 alpha-2 region code or \"*\""),
        ))
    }

    pub fn is_all(self) -> bool {
        self == Region::ALL
    }

    pub fn as_str(&self) -> &str {
        if self.is_all() {
            "*"
        } else {
            // Only ASCII letters are ever stored.
            std::str::from_utf8(&self.0).unwrap_or("??")
        }
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Region {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Region {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Region::parse("region", &s).map_err(|e| serde::de::Error::custom(e.reason))
    }
}

impl utoipa::PartialSchema for Region {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some("^([A-Z]{2}|\\*)$"))
            .description(Some("ISO 3166-1 alpha-2 code, or * for every region"))
            .into()
    }
}

impl utoipa::ToSchema for Region {}

/// The regions a right applies to.
pub trait RegionSet {
    /// True if a listing sold in `region` falls inside this set.
    fn covers(&self, region: Region) -> bool;
}

impl RegionSet for [Region] {
    fn covers(&self, region: Region) -> bool {
        self.iter().any(|r| r.is_all() || *r == region)
    }
}

impl RegionSet for Vec<Region> {
    fn covers(&self, region: Region) -> bool {
        self.as_slice().covers(region)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_codes() {
        assert_eq!(Region::parse("r", "us").unwrap().as_str(), "US");
        assert!(Region::parse("r", "*").unwrap().is_all());
        assert!(Region::parse("r", "XX").is_err());
        assert!(Region::parse("r", "USA").is_err());
        assert!(Region::parse("r", "").is_err());
        assert_eq!(ISO_3166_1_ALPHA2.split(' ').count(), 249);
    }

    #[test]
    fn coverage() {
        let us = Region::parse("r", "US").unwrap();
        let gb = Region::parse("r", "GB").unwrap();
        assert!(vec![us].covers(us));
        assert!(!vec![us].covers(gb));
        assert!(vec![Region::ALL].covers(gb));
    }

    #[test]
    fn serde_round_trip() {
        let r: Region = serde_json::from_str("\"sg\"").unwrap();
        assert_eq!(serde_json::to_string(&r).unwrap(), "\"SG\"");
        assert!(serde_json::from_str::<Region>("\"ZZ\"").is_err());
    }
}
