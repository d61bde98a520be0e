//! Source-IP rules evaluated like a resource policy's `aws:SourceIp`: deny wins, then an
//! allowlist (when present) must contain the address.
//!
//! Rules and callers are compared in one canonical form, IPv6: an IPv4 address `a.b.c.d` is
//! `::ffff:a.b.c.d` and an IPv4 network `/n` is the mapped network `/(96 + n)`. So
//! `198.51.100.0/24` and `::ffff:198.51.100.0/120` are the same rule, `198.51.100.7` and
//! `::ffff:198.51.100.7` the same caller, and an IPv6 network containing the mapped range
//! (`::/64`, `::/0`) contains IPv4 callers.

use std::net::{IpAddr, Ipv6Addr};

use ipnet::{IpNet, Ipv6Net};

/// Parsed CIDR allow/deny lists of one tenant, held in canonical (IPv6) form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceIpRules {
    allow: Vec<Ipv6Net>,
    deny: Vec<Ipv6Net>,
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
    /// Builds the rules from already parsed networks, in IPv4 or IPv6 (mapped or not) form.
    pub fn new(allow: Vec<IpNet>, deny: Vec<IpNet>) -> Self {
        let canonical = |nets: Vec<IpNet>| nets.into_iter().map(canonical_net).collect();
        Self {
            allow: canonical(allow),
            deny: canonical(deny),
        }
    }

    /// Evaluates one address, IPv4 or IPv6, in the canonical form (see the module docs).
    pub fn check(&self, ip: IpAddr) -> IpVerdict {
        let ip = canonical_ip(ip);
        if self.deny.iter().any(|net| net.contains(&ip)) {
            IpVerdict::InDenyList
        } else if !self.allow.is_empty() && !self.allow.iter().any(|net| net.contains(&ip)) {
            IpVerdict::NotInAllowList
        } else {
            IpVerdict::Pass
        }
    }
}

/// The canonical form of an address: IPv6 as it is, IPv4 as `::ffff:a.b.c.d`.
pub fn canonical_ip(ip: IpAddr) -> Ipv6Addr {
    match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        IpAddr::V6(v6) => v6,
    }
}

/// The canonical form of a network: IPv6 as it is, IPv4 `a.b.c.d/n` as `::ffff:a.b.c.d/(96+n)`.
pub fn canonical_net(net: IpNet) -> Ipv6Net {
    match net {
        IpNet::V4(v4) => Ipv6Net::new(v4.addr().to_ipv6_mapped(), 96 + v4.prefix_len())
            .expect("an IPv4 prefix length is at most 32"),
        IpNet::V6(v6) => v6,
    }
}

/// Whether `net` contains `ip`, whichever form (IPv4, IPv4-mapped IPv6, IPv6) each is written
/// in. For any caller address read elsewhere, e.g. a `CloudFront-Viewer-Address`.
pub fn net_contains(net: IpNet, ip: IpAddr) -> bool {
    canonical_net(net).contains(&canonical_ip(ip))
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
    fn mapped_ipv4_deny_rule_denies_the_caller_in_either_form() {
        let r = rules(&[], &["::ffff:198.51.100.0/120"]);
        assert_eq!(r.check(ip("198.51.100.7")), IpVerdict::InDenyList);
        assert_eq!(r.check(ip("::ffff:198.51.100.7")), IpVerdict::InDenyList);
        assert_eq!(r.check(ip("198.51.100.255")), IpVerdict::InDenyList);
        assert_eq!(r.check(ip("198.51.101.7")), IpVerdict::Pass);
        assert_eq!(r.check(ip("::ffff:198.51.99.255")), IpVerdict::Pass);
        assert_eq!(r.check(ip("2001:db8::7")), IpVerdict::Pass);
    }

    #[test]
    fn mapped_ipv4_allow_rule_and_bare_mapped_address() {
        let r = rules(&["::ffff:203.0.113.0/120", "::ffff:192.0.2.9"], &[]);
        assert_eq!(r.check(ip("203.0.113.9")), IpVerdict::Pass);
        assert_eq!(r.check(ip("::ffff:203.0.113.9")), IpVerdict::Pass);
        assert_eq!(r.check(ip("192.0.2.9")), IpVerdict::Pass);
        assert_eq!(r.check(ip("192.0.2.10")), IpVerdict::NotInAllowList);
        assert_eq!(r.check(ip("203.0.114.1")), IpVerdict::NotInAllowList);
    }

    #[test]
    fn ipv4_deny_wins_over_mapped_allow_and_back() {
        let r = rules(&["::ffff:10.0.0.0/104"], &["10.1.0.0/16"]);
        assert_eq!(r.check(ip("10.2.0.1")), IpVerdict::Pass);
        assert_eq!(r.check(ip("::ffff:10.1.0.1")), IpVerdict::InDenyList);
        let r = rules(&["10.0.0.0/8"], &["::ffff:10.1.0.0/112"]);
        assert_eq!(r.check(ip("10.1.200.3")), IpVerdict::InDenyList);
        assert_eq!(r.check(ip("::ffff:10.2.0.1")), IpVerdict::Pass);
    }

    #[test]
    fn ipv6_nets_wider_than_the_mapped_range_contain_ipv4_callers() {
        let r = rules(&[], &["::/64"]);
        assert_eq!(r.check(ip("192.0.2.1")), IpVerdict::InDenyList);
        assert_eq!(r.check(ip("2001:db8::1")), IpVerdict::Pass);
        let r = rules(&[], &["::ffff:0:0/96"]);
        assert_eq!(r.check(ip("8.8.8.8")), IpVerdict::InDenyList);
        assert_eq!(
            r.check(ip("::8.8.8.8")),
            IpVerdict::Pass,
            "IPv4-compatible is not IPv4"
        );
        let r = rules(&["::/0"], &[]);
        assert_eq!(r.check(ip("198.51.100.1")), IpVerdict::Pass);
        let r = rules(&["0.0.0.0/0"], &[]);
        assert_eq!(r.check(ip("2001:db8::1")), IpVerdict::NotInAllowList);
        assert_eq!(r.check(ip("::ffff:1.2.3.4")), IpVerdict::Pass);
        let r = rules(&["2001:db8::/32"], &[]);
        assert_eq!(r.check(ip("192.0.2.1")), IpVerdict::NotInAllowList);
    }

    #[test]
    fn canonical_forms_are_mapped_ipv6() {
        assert_eq!(
            canonical_ip(ip("198.51.100.7")).to_string(),
            "::ffff:198.51.100.7"
        );
        assert_eq!(canonical_ip(ip("2001:db8::1")).to_string(), "2001:db8::1");
        let net = |t: &str| canonical_net(parse_cidr(t).unwrap()).to_string();
        assert_eq!(net("198.51.100.0/24"), "::ffff:198.51.100.0/120");
        assert_eq!(net("0.0.0.0/0"), "::ffff:0.0.0.0/96");
        assert_eq!(net("192.0.2.7"), "::ffff:192.0.2.7/128");
        assert_eq!(net("2001:db8::/32"), "2001:db8::/32");
        let v4 = parse_cidr("198.51.100.0/24").unwrap();
        let mapped = parse_cidr("::ffff:198.51.100.0/120").unwrap();
        assert!(net_contains(v4, ip("::ffff:198.51.100.200")));
        assert!(net_contains(mapped, ip("198.51.100.200")));
        assert!(!net_contains(mapped, ip("198.51.101.0")));
        assert_eq!(
            SourceIpRules::new(vec![v4], vec![]),
            SourceIpRules::new(vec![mapped], vec![])
        );
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
        assert_eq!(
            parse_cidr("::ffff:198.51.100.1/120").unwrap_err(),
            "CIDR has host bits set; did you mean \"::ffff:198.51.100.0/120\"?"
        );
        assert!(parse_cidr("::ffff:198.51.100.0/129").is_err());
    }

    use proptest::prelude::*;

    /// The decision for `caller` under `net/prefix`, by 32-bit arithmetic on the IPv4 forms.
    fn inside(net: u32, prefix: u8, caller: u32) -> bool {
        let mask = if prefix == 0 {
            0
        } else {
            u32::MAX << (32 - prefix)
        };
        caller & mask == net & mask
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1024))]

        /// A rule written as `a.b.c.d/n` or `::ffff:a.b.c.d/(96+n)`, in an allow or a deny list,
        /// decides a caller written as `w.x.y.z` or `::ffff:w.x.y.z` the same way, and as the
        /// 32-bit arithmetic says.
        #[test]
        fn ipv4_and_mapped_forms_decide_alike(
            net in any::<u32>(),
            prefix in 0u8..=32,
            host in any::<u32>(),
            caller_inside in any::<bool>(),
        ) {
            let mask = if prefix == 0 { 0 } else { u32::MAX << (32 - prefix) };
            let network = std::net::Ipv4Addr::from(net & mask);
            let caller = if caller_inside { (net & mask) | (host & !mask) } else { host };
            let expected = inside(net, prefix, caller);
            let caller = std::net::Ipv4Addr::from(caller);
            let rule_forms = [format!("{network}/{prefix}"), format!("::ffff:{network}/{}", 96 + prefix)];
            let callers = [IpAddr::V4(caller), IpAddr::V6(caller.to_ipv6_mapped())];
            for rule in &rule_forms {
                let net = parse_cidr(rule).unwrap();
                let deny = SourceIpRules::new(vec![], vec![net]);
                let allow = SourceIpRules::new(vec![net], vec![]);
                for c in callers {
                    let denied = if expected { IpVerdict::InDenyList } else { IpVerdict::Pass };
                    let allowed = if expected { IpVerdict::Pass } else { IpVerdict::NotInAllowList };
                    prop_assert_eq!(deny.check(c), denied, "deny {} caller {}", rule, c);
                    prop_assert_eq!(allow.check(c), allowed, "allow {} caller {}", rule, c);
                    prop_assert_eq!(net_contains(net, c), expected, "{} {}", rule, c);
                }
            }
        }
    }
}
