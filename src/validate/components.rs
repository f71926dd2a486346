//! Strongly connected components of a graph of tasks, found without
//! recursion (Tarjan's algorithm with an explicit stack), in linear time.

use std::ops::Range;

/// Per node, the number of its component (components numbered in the
/// order they complete). Two nodes share a number when each reaches the other.
pub(crate) fn strongly_connected(edges: &[Vec<(usize, Range<usize>)>]) -> Vec<usize> {
    const UNSEEN: usize = usize::MAX;
    let n = edges.len();
    let mut index = vec![UNSEEN; n];
    let mut low = vec![0usize; n];
    let mut on_stack = vec![false; n];
    let mut component = vec![UNSEEN; n];
    let mut stack = Vec::new();
    let (mut next, mut components) = (0usize, 0usize);
    // The depth-first path: (node, how many of its edges were followed).
    let mut path: Vec<(usize, usize)> = Vec::new();
    for root in 0..n {
        if index[root] != UNSEEN {
            continue;
        }
        path.push((root, 0));
        index[root] = next;
        low[root] = next;
        next += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(&mut (at, ref mut followed)) = path.last_mut() {
            if let Some((to, _)) = edges[at].get(*followed) {
                *followed += 1;
                let to = *to;
                if index[to] == UNSEEN {
                    index[to] = next;
                    low[to] = next;
                    next += 1;
                    stack.push(to);
                    on_stack[to] = true;
                    path.push((to, 0));
                } else if on_stack[to] {
                    low[at] = low[at].min(index[to]);
                }
                continue;
            }
            path.pop();
            if let Some(&(parent, _)) = path.last() {
                low[parent] = low[parent].min(low[at]);
            }
            if low[at] == index[at] {
                while let Some(member) = stack.pop() {
                    on_stack[member] = false;
                    component[member] = components;
                    if member == at {
                        break;
                    }
                }
                components += 1;
            }
        }
    }
    component
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(edges: &[&[usize]]) -> Vec<Vec<(usize, Range<usize>)>> {
        edges
            .iter()
            .map(|to| to.iter().map(|t| (*t, 0..0)).collect())
            .collect()
    }

    #[test]
    fn a_cycle_is_one_component_and_a_chain_is_many() {
        let c = strongly_connected(&graph(&[&[1], &[2], &[0, 3], &[]]));
        assert_eq!(c[0], c[1]);
        assert_eq!(c[1], c[2]);
        assert_ne!(c[2], c[3]);
    }

    #[test]
    fn a_long_chain_does_not_recurse() {
        let edges: Vec<&[usize]> = Vec::new();
        let mut g = graph(&edges);
        for i in 0..200_000 {
            g.push(vec![(i + 1, 0..0)]);
        }
        g.push(Vec::new());
        let c = strongly_connected(&g);
        assert_eq!(c.len(), 200_001);
        assert_ne!(c[0], c[1]);
    }
}
