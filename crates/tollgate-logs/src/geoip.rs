//! Country and autonomous system of client addresses, from MaxMind databases (`.mmdb`: GeoLite2 or
//! GeoIP2 Country/City, and ASN). A lookup walks the database's search tree; it runs per line only
//! when a country list is configured (`disallowed-country`), and otherwise for the listed sources.

use std::net::IpAddr;
use std::path::Path;

use maxminddb::{Reader, path};

use crate::analyze::CountryLookup;
use crate::report::Location;

/// Errors opening a database.
#[derive(Debug, thiserror::Error)]
pub enum GeoIpError {
    /// The file could not be read or is not a MaxMind database.
    #[error("{path}: {message}")]
    Open {
        /// The file.
        path: String,
        /// Why.
        message: String,
    },
    /// The database is neither a country/city nor an ASN database.
    #[error("{path}: database type `{kind}` has neither countries nor ASNs")]
    Kind {
        /// The file.
        path: String,
        /// Its `database_type`.
        kind: String,
    },
}

/// The databases given with `--geoip`.
#[derive(Default)]
pub struct GeoIp {
    countries: Option<Reader<Vec<u8>>>,
    asns: Option<Reader<Vec<u8>>>,
}

impl std::fmt::Debug for GeoIp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeoIp")
            .field("countries", &self.countries.is_some())
            .field("asns", &self.asns.is_some())
            .finish()
    }
}

impl GeoIp {
    /// Opens each database and files it as a country or an ASN database by its metadata.
    pub fn open(paths: &[impl AsRef<Path>]) -> Result<GeoIp, GeoIpError> {
        let mut geoip = GeoIp::default();
        for path in paths {
            let path = path.as_ref();
            let name = path.display().to_string();
            let reader = Reader::open_readfile(path).map_err(|e| GeoIpError::Open {
                path: name.clone(),
                message: e.to_string(),
            })?;
            let kind = reader.metadata().database_type.clone();
            if kind.contains("ASN") {
                geoip.asns = Some(reader);
            } else if kind.contains("Country")
                || kind.contains("City")
                || kind.contains("Enterprise")
            {
                geoip.countries = Some(reader);
            } else {
                return Err(GeoIpError::Kind { path: name, kind });
            }
        }
        Ok(geoip)
    }

    /// Whether a country database is loaded.
    pub fn has_countries(&self) -> bool {
        self.countries.is_some()
    }

    /// Country and AS of an address, as far as the databases know.
    pub fn locate(&self, ip: IpAddr) -> Location {
        let asn = self.asns.as_ref().and_then(|reader| reader.lookup(ip).ok());
        Location {
            country: self.country(ip).map(str::to_string),
            asn: asn.as_ref().and_then(|found| {
                found
                    .decode_path::<u32>(&path!["autonomous_system_number"])
                    .ok()
                    .flatten()
            }),
            as_org: asn
                .as_ref()
                .and_then(|found| {
                    found
                        .decode_path::<&str>(&path!["autonomous_system_organization"])
                        .ok()
                        .flatten()
                })
                .map(str::to_string),
        }
    }
}

impl CountryLookup for GeoIp {
    fn country(&self, ip: IpAddr) -> Option<&str> {
        let found = self.countries.as_ref()?.lookup(ip).ok()?;
        found
            .decode_path::<&str>(&path!["country", "iso_code"])
            .ok()
            .flatten()
            .or_else(|| {
                found
                    .decode_path::<&str>(&path!["registered_country", "iso_code"])
                    .ok()
                    .flatten()
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixtures() -> GeoIp {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/geoip/");
        GeoIp::open(&[
            format!("{dir}GeoLite2-Country-Test.mmdb"),
            format!("{dir}GeoLite2-ASN-Test.mmdb"),
        ])
        .unwrap()
    }

    #[test]
    fn countries_and_asns_of_known_addresses() {
        let geoip = fixtures();
        assert_eq!(geoip.country("81.2.69.160".parse().unwrap()), Some("GB"));
        assert_eq!(geoip.country("2001:218::1".parse().unwrap()), Some("JP"));
        let sweden = geoip.locate("89.160.20.112".parse().unwrap());
        assert_eq!(sweden.country.as_deref(), Some("SE"));
        assert_eq!(sweden.asn, Some(29518));
        assert_eq!(geoip.locate("1.128.0.1".parse().unwrap()).asn, Some(1221));
    }

    #[test]
    fn unknown_addresses_have_no_location() {
        let geoip = fixtures();
        assert_eq!(
            geoip.locate("192.168.1.1".parse().unwrap()),
            Location::default()
        );
    }

    #[test]
    fn a_file_that_is_not_a_database_is_an_error() {
        let error = GeoIp::open(&[concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml")]).unwrap_err();
        assert!(error.to_string().contains("Cargo.toml"), "{error}");
    }
}
