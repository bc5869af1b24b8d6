//! A set of IP prefixes (CIDRs) with a membership test per address: the `untrustedSources`
//! allow and deny lists.
//!
//! One binary trie per address family. A lookup walks the address bits from the most
//! significant one and stops at the first prefix that ends on the way (any covering prefix is
//! enough for membership) or where the trie has no branch, so a miss on a small list costs a few
//! steps and a hit never more than 32 (IPv4) or 128 (IPv6).
//!
//! IPv4-mapped IPv6 addresses (`::ffff:10.1.2.3`, which dual-stack proxies log) are looked up as
//! the IPv4 address they carry, and a configured prefix inside `::ffff:0:0/96` is stored as the
//! IPv4 prefix it stands for. Shorter IPv6 prefixes (`::/0`, `::/64`) cover IPv6 addresses only:
//! someone writing `::/0` means "every IPv6 client", not "everyone".

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

/// A set of IPv4 and IPv6 prefixes.
#[derive(Debug, Clone, Default)]
pub struct IpSet {
    v4: PrefixTrie,
    v6: PrefixTrie,
}

impl IpSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a prefix. A prefix inside `::ffff:0:0/96` is added as the IPv4 prefix it maps.
    pub fn insert(&mut self, net: IpNet) {
        match net {
            IpNet::V4(net) => self.insert_v4(net),
            IpNet::V6(net) => match mapped_v4_prefix(net) {
                Some(v4) => self.insert_v4(v4),
                None => {
                    let bits = u128::from(net.network());
                    self.v6.insert(bits, 128, net.prefix_len());
                }
            },
        }
    }

    fn insert_v4(&mut self, net: Ipv4Net) {
        // IPv4 addresses sit in the top 32 bits of the 128-bit key so both tries walk the same way.
        let bits = u128::from(u32::from(net.network())) << 96;
        self.v4.insert(bits, 32, net.prefix_len());
    }

    /// Whether some prefix of the set covers `ip`.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match ip.to_canonical() {
            IpAddr::V4(ip) => self.contains_v4(ip),
            IpAddr::V6(ip) => self.contains_v6(ip),
        }
    }

    fn contains_v4(&self, ip: Ipv4Addr) -> bool {
        self.v4.covers(u128::from(u32::from(ip)) << 96, 32)
    }

    fn contains_v6(&self, ip: Ipv6Addr) -> bool {
        self.v6.covers(u128::from(ip), 128)
    }

    /// Whether the set holds no prefix at all.
    pub fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty()
    }
}

/// The IPv4 prefix an IPv6 prefix inside `::ffff:0:0/96` stands for.
fn mapped_v4_prefix(net: Ipv6Net) -> Option<Ipv4Net> {
    if net.prefix_len() < 96 {
        return None;
    }
    let v4 = net.network().to_ipv4_mapped()?;
    Ipv4Net::new(v4, net.prefix_len() - 96).ok()
}

/// A binary trie over the top `width` bits of a 128-bit key. Nodes live in one vector and name
/// their children by index, which keeps the structure compact and free of pointers.
#[derive(Debug, Clone, Default)]
struct PrefixTrie {
    nodes: Vec<Node>,
}

#[derive(Debug, Clone, Copy, Default)]
struct Node {
    /// Child index per bit value; 0 means "no child" (index 0 is the root, never a child).
    children: [u32; 2],
    /// A configured prefix ends at this node.
    terminal: bool,
}

impl PrefixTrie {
    fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    fn insert(&mut self, key: u128, width: u8, prefix_len: u8) {
        if self.nodes.is_empty() {
            self.nodes.push(Node::default());
        }
        let mut node = 0usize;
        for depth in 0..prefix_len.min(width) {
            if self.nodes[node].terminal {
                // A shorter prefix already covers everything below: nothing to add.
                return;
            }
            let bit = bit_at(key, depth);
            let child = self.nodes[node].children[bit];
            node = if child == 0 {
                let index = self.nodes.len();
                self.nodes.push(Node::default());
                // Config lists hold thousands of entries at most; 2^32 nodes is out of reach.
                self.nodes[node].children[bit] = u32::try_from(index).unwrap_or(u32::MAX);
                index
            } else {
                child as usize
            };
        }
        let end = &mut self.nodes[node];
        end.terminal = true;
        // Everything below is now covered by this prefix; the subtree is unreachable for
        // lookups (they stop here) and is simply left in place.
        end.children = [0, 0];
    }

    fn covers(&self, key: u128, width: u8) -> bool {
        let mut node = match self.nodes.first() {
            Some(root) => *root,
            None => return false,
        };
        for depth in 0..width {
            if node.terminal {
                return true;
            }
            let child = node.children[bit_at(key, depth)];
            match self.nodes.get(child as usize) {
                Some(next) if child != 0 => node = *next,
                _ => return false,
            }
        }
        node.terminal
    }
}

/// Bit `depth` of `key`, counted from the most significant bit.
fn bit_at(key: u128, depth: u8) -> usize {
    ((key >> (127 - u32::from(depth))) & 1) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(prefixes: &[&str]) -> IpSet {
        let mut set = IpSet::new();
        for prefix in prefixes {
            set.insert(prefix.parse().expect("test prefix"));
        }
        set
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("test address")
    }

    #[test]
    fn empty_set_contains_nothing() {
        let set = IpSet::new();
        assert!(set.is_empty());
        assert!(!set.contains(ip("10.0.0.1")));
        assert!(!set.contains(ip("::1")));
    }

    #[test]
    fn v4_slash_zero_contains_every_ipv4_address_and_no_ipv6_address() {
        let set = set(&["0.0.0.0/0"]);
        assert!(set.contains(ip("0.0.0.0")));
        assert!(set.contains(ip("255.255.255.255")));
        assert!(set.contains(ip("203.0.113.9")));
        assert!(!set.contains(ip("2001:db8::1")));
    }

    #[test]
    fn v6_slash_zero_contains_every_ipv6_address_but_not_ipv4() {
        let set = set(&["::/0"]);
        assert!(set.contains(ip("2001:db8::1")));
        assert!(set.contains(ip("::")));
        assert!(!set.contains(ip("192.0.2.1")));
        // A mapped address is IPv4 for this set.
        assert!(!set.contains(ip("::ffff:192.0.2.1")));
    }

    #[test]
    fn slash_32_contains_exactly_one_address() {
        let set = set(&["192.0.2.7/32"]);
        assert!(set.contains(ip("192.0.2.7")));
        assert!(!set.contains(ip("192.0.2.6")));
        assert!(!set.contains(ip("192.0.2.8")));
    }

    #[test]
    fn slash_128_contains_exactly_one_address() {
        let set = set(&["2001:db8::42/128"]);
        assert!(set.contains(ip("2001:db8::42")));
        assert!(!set.contains(ip("2001:db8::43")));
        assert!(!set.contains(ip("2001:db8::")));
    }

    #[test]
    fn prefix_boundaries_are_exact() {
        let set = set(&["10.20.0.0/14"]);
        assert!(set.contains(ip("10.20.0.0")));
        assert!(set.contains(ip("10.23.255.255")));
        assert!(!set.contains(ip("10.24.0.0")));
        assert!(!set.contains(ip("10.19.255.255")));
    }

    #[test]
    fn overlapping_prefixes_in_either_order_cover_their_union() {
        for order in [["10.0.0.0/8", "10.1.2.0/24"], ["10.1.2.0/24", "10.0.0.0/8"]] {
            let set = set(&order);
            assert!(set.contains(ip("10.1.2.3")), "{order:?}");
            assert!(set.contains(ip("10.200.0.1")), "{order:?}");
            assert!(!set.contains(ip("11.0.0.1")), "{order:?}");
        }
        let set = set(&["2001:db8::/32", "2001:db8:1::/48", "2001:db9::/48"]);
        assert!(set.contains(ip("2001:db8:ffff::1")));
        assert!(set.contains(ip("2001:db9::1")));
        assert!(!set.contains(ip("2001:db9:1::1")));
    }

    #[test]
    fn ipv4_mapped_addresses_are_looked_up_as_ipv4() {
        let set = set(&["198.51.100.0/24"]);
        assert!(set.contains(ip("::ffff:198.51.100.20")));
        assert!(!set.contains(ip("::ffff:198.51.101.20")));
    }

    #[test]
    fn ipv4_mapped_prefixes_are_stored_as_ipv4() {
        let set = set(&["::ffff:198.51.100.0/120"]);
        assert!(set.contains(ip("198.51.100.20")));
        assert!(set.contains(ip("::ffff:198.51.100.20")));
        assert!(!set.contains(ip("198.51.101.20")));
    }

    #[test]
    fn host_bits_in_a_configured_prefix_are_ignored() {
        // `10.1.2.3/16` is read as 10.1.0.0/16, as ipnet and the kernel do.
        let set = set(&["10.1.2.3/16"]);
        assert!(set.contains(ip("10.1.200.1")));
        assert!(!set.contains(ip("10.2.0.1")));
    }
}
