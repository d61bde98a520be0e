//! Source-IP rules evaluated like a resource policy's `aws:SourceIp`: deny wins, then an
//! allowlist (when present) must contain the address.

use std::net::IpAddr;

use ipnet::IpNet;

/// Parsed CIDR allow/deny lists of one tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceIpRules {
    allow: Vec<IpNet>,
    deny: Vec<IpNet>,
}

/// Why a source address was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpVerdict {
    /// Address passes the rules.
    Pass,
    /// Address is inside a deny CIDR.
    InDenyList,
    /// An allowlist exists and the address is outside it.
    NotInAllowList,
}

impl SourceIpRules {
    /// Builds the rules from already parsed networks.
    pub fn new(allow: Vec<IpNet>, deny: Vec<IpNet>) -> Self {
        Self { allow, deny }
    }

    /// Evaluates one address. IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`) count as IPv4.
    pub fn check(&self, ip: IpAddr) -> IpVerdict {
        let ip = ip.to_canonical();
        if self.deny.iter().any(|net| net.contains(&ip)) {
            IpVerdict::InDenyList
        } else if !self.allow.is_empty() && !self.allow.iter().any(|net| net.contains(&ip)) {
            IpVerdict::NotInAllowList
        } else {
            IpVerdict::Pass
        }
    }
}

/// Parses `10.0.0.0/8`, `2001:db8::/32` or a bare address (a /32 or /128). Host bits set
/// (`10.0.0.1/8`) are refused: such an entry is almost always a typo for a narrower or wider net.
/// Errors never quote the text.
pub fn parse_cidr(text: &str) -> Result<IpNet, String> {
    let trimmed = text.trim();
    if let Ok(ip) = trimmed.parse::<IpAddr>() {
        return Ok(IpNet::from(ip));
    }
    let net: IpNet = trimmed
        .parse()
        .map_err(|_| "invalid CIDR (e.g. 10.0.0.0/8 or 2001:db8::/32)".to_owned())?;
    if net.addr() != net.network() {
        return Err(format!(
            "CIDR has host bits set; did you mean \"{}\"?",
            net.trunc()
        ));
    }
    Ok(net)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(allow: &[&str], deny: &[&str]) -> SourceIpRules {
        let parse = |list: &[&str]| list.iter().map(|c| parse_cidr(c).unwrap()).collect();
        SourceIpRules::new(parse(allow), parse(deny))
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn deny_wins_over_allow() {
        let r = rules(&["10.0.0.0/8"], &["10.1.0.0/16"]);
        assert_eq!(r.check(ip("10.2.3.4")), IpVerdict::Pass);
        assert_eq!(r.check(ip("10.1.3.4")), IpVerdict::InDenyList);
        assert_eq!(r.check(ip("11.0.0.1")), IpVerdict::NotInAllowList);
    }

    #[test]
    fn deny_only_allows_everything_else() {
        let r = rules(&[], &["192.0.2.0/24", "2001:db8::/32"]);
        assert_eq!(r.check(ip("198.51.100.1")), IpVerdict::Pass);
        assert_eq!(r.check(ip("192.0.2.77")), IpVerdict::InDenyList);
        assert_eq!(r.check(ip("2001:db8:1::5")), IpVerdict::InDenyList);
        assert_eq!(r.check(ip("2001:db9::5")), IpVerdict::Pass);
    }

    #[test]
    fn ipv6_and_mapped_ipv4() {
        let r = rules(&["2001:db8::/48", "203.0.113.0/24"], &[]);
        assert_eq!(r.check(ip("2001:db8:0:ffff::1")), IpVerdict::Pass);
        assert_eq!(r.check(ip("2001:db8:1::1")), IpVerdict::NotInAllowList);
        assert_eq!(r.check(ip("::ffff:203.0.113.9")), IpVerdict::Pass);
        assert_eq!(
            r.check(ip("::ffff:198.51.100.9")),
            IpVerdict::NotInAllowList
        );
    }

    #[test]
    fn bare_addresses_are_host_routes() {
        let r = rules(&["198.51.100.7", "2001:db8::7"], &[]);
        assert_eq!(r.check(ip("198.51.100.7")), IpVerdict::Pass);
        assert_eq!(r.check(ip("198.51.100.8")), IpVerdict::NotInAllowList);
        assert_eq!(r.check(ip("2001:db8::7")), IpVerdict::Pass);
    }

    #[test]
    fn parse_errors_are_specific() {
        assert_eq!(
            parse_cidr("10.0.0/8").unwrap_err(),
            "invalid CIDR (e.g. 10.0.0.0/8 or 2001:db8::/32)"
        );
        assert_eq!(
            parse_cidr("10.0.0.1/8").unwrap_err(),
            "CIDR has host bits set; did you mean \"10.0.0.0/8\"?"
        );
        assert!(parse_cidr("10.0.0.0/33").is_err());
        assert!(parse_cidr("2001:db8::/129").is_err());
        assert_eq!(parse_cidr("::/0").unwrap().to_string(), "::/0");
    }
}
