//! Measures a parsed document before async-graphql validates it: depth, aliases,
//! directives, fields once fragments are inlined, and the nodes it could return.
//!
//! Each fragment is measured once and its measure reused at every spread, so a
//! "fragment bomb" (fragments spreading the next one twice, thirty times over) costs
//! linear time here and is refused before async-graphql's validators, which inline
//! fragments at every spread, walk it exponentially.

use async_graphql::parser::types::{
    Directive, ExecutableDocument, Field, OperationDefinition, Selection, SelectionSet,
};
use async_graphql::{Name, Positioned, Value, Variables};
use std::collections::{HashMap, HashSet};

/// The page size a connection returns without `first`/`last` (the resolvers' default).
pub const DEFAULT_PAGE_SIZE: u64 = 20;

/// Fields whose `first`/`last` keep the two ends of a list the server computes whole
/// (`ranking`: the top and the bottom units), not a page of a connection: they never
/// return more rows than the same field without them, so they are measured like any
/// plain list, and `ranking(first: 20, last: 3)` is not refused as a big page.
const ENDS_NOT_PAGES: [&str; 1] = ["ranking"];

/// What a document measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Shape {
    /// Deepest field nesting of any operation (introspection's `ofType` chain not counted).
    pub depth: usize,
    /// Deepest selection-set nesting with fragment spreads counted as a level, as
    /// async-graphql's recursion limit counts it (plus one for the operation's own set).
    pub nesting: usize,
    /// Aliased fields anywhere in the document.
    pub aliases: usize,
    /// Directives anywhere in the document.
    pub directives: usize,
    /// Fields of all operations with fragments inlined.
    pub fields: u64,
    /// Most nodes any operation could return (GitHub's rule: each connection's
    /// `first`/`last` times the nodes of the connections above it, summed).
    pub nodes: u64,
}

/// Measures `doc`; `variables` give the values of `first: $n`.
pub fn measure(doc: &ExecutableDocument, variables: &Variables) -> Shape {
    let mut walker = Walker {
        doc,
        variables,
        fragments: HashMap::new(),
        visiting: HashSet::new(),
    };
    let mut shape = Shape::default();
    for (_, operation) in doc.operations.iter() {
        let set = walker.selection_set(&operation.node.selection_set.node);
        shape.depth = shape.depth.max(set.depth);
        shape.nesting = shape.nesting.max(set.levels);
        shape.fields = shape.fields.saturating_add(set.fields);
        shape.nodes = shape.nodes.max(set.nodes);
        let (aliases, directives) = syntax_counts_of_operation(&operation.node);
        shape.aliases += aliases;
        shape.directives += directives;
    }
    for fragment in doc.fragments.values() {
        let (aliases, directives) = syntax_counts(&fragment.node.selection_set.node);
        shape.aliases += aliases;
        shape.directives += directives + fragment.node.directives.len();
    }
    shape
}

/// The measure of one selection set; `nodes` as if the set were at the top.
#[derive(Debug, Clone, Copy, Default)]
struct SetMeasure {
    depth: usize,
    levels: usize,
    fields: u64,
    nodes: u64,
}

impl SetMeasure {
    fn merge(&mut self, other: SetMeasure) {
        self.depth = self.depth.max(other.depth);
        self.levels = self.levels.max(other.levels);
        self.fields = self.fields.saturating_add(other.fields);
        self.nodes = self.nodes.saturating_add(other.nodes);
    }
}

struct Walker<'a> {
    doc: &'a ExecutableDocument,
    variables: &'a Variables,
    /// Measures of fragments already walked.
    fragments: HashMap<&'a Name, SetMeasure>,
    /// Fragments being walked: a spread back into one of them is a cycle, which
    /// validation refuses; it adds nothing here.
    visiting: HashSet<&'a Name>,
}

impl<'a> Walker<'a> {
    fn selection_set(&mut self, set: &'a SelectionSet) -> SetMeasure {
        let mut measure = SetMeasure::default();
        for item in &set.items {
            match &item.node {
                Selection::Field(field) => measure.merge(self.field(&field.node)),
                Selection::InlineFragment(inline) => {
                    measure.merge(self.selection_set(&inline.node.selection_set.node))
                }
                Selection::FragmentSpread(spread) => {
                    measure.merge(self.fragment(&spread.node.fragment_name.node))
                }
            }
        }
        measure.levels += 1;
        measure
    }

    fn fragment(&mut self, name: &'a Name) -> SetMeasure {
        if let Some(known) = self.fragments.get(name) {
            return *known;
        }
        let Some(fragment) = self.doc.fragments.get(name) else {
            return SetMeasure::default(); // unknown fragment: validation reports it
        };
        if !self.visiting.insert(name) {
            return SetMeasure::default();
        }
        let measure = self.selection_set(&fragment.node.selection_set.node);
        self.visiting.remove(name);
        self.fragments.insert(name, measure);
        measure
    }

    fn field(&mut self, field: &'a Field) -> SetMeasure {
        let children = self.selection_set(&field.selection_set.node);
        // `ofType` is introspection's chain of type wrappers (`[Int!]!`): single objects
        // read from memory, which the standard introspection query nests seven deep.
        let own_depth = usize::from(field.name.node.as_str() != "ofType");
        let nodes = match self.page_size(field) {
            Some(page) => page.saturating_add(page.saturating_mul(children.nodes)),
            None => children.nodes,
        };
        let leaf = field.selection_set.node.items.is_empty();
        SetMeasure {
            depth: own_depth + children.depth,
            levels: if leaf { 0 } else { children.levels },
            fields: children.fields.saturating_add(1),
            nodes,
        }
    }

    /// The page a connection field returns: its `first`/`last`, or the default page when
    /// it is a connection (paged arguments, or `edges`/`nodes` selected) without them.
    fn page_size(&self, field: &Field) -> Option<u64> {
        if ENDS_NOT_PAGES.contains(&field.name.node.as_str()) {
            return None;
        }
        let paged = ["first", "last"]
            .iter()
            .filter_map(|arg| field.get_argument(arg))
            .filter_map(|value| {
                // Literal or `$variable` (a missing variable is for validation to report).
                let value = value
                    .node
                    .clone()
                    .into_const_with(|name| self.variables.get(&name).cloned().ok_or(()))
                    .ok()?;
                as_page(&value)
            })
            .max();
        if paged.is_some() {
            return paged;
        }
        let has_page_args =
            field.get_argument("first").is_some() || field.get_argument("last").is_some();
        let selects_page = field.selection_set.node.items.iter().any(|item| {
            matches!(&item.node, Selection::Field(f)
                if matches!(f.node.name.node.as_str(), "edges" | "nodes"))
        });
        (has_page_args || selects_page).then_some(DEFAULT_PAGE_SIZE)
    }
}

/// A non-negative integer page size; anything else is for validation to refuse.
fn as_page(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64().or_else(|| n.as_i64().map(|n| n.max(0) as u64)),
        _ => None,
    }
}

fn syntax_counts_of_operation(operation: &OperationDefinition) -> (usize, usize) {
    let (aliases, directives) = syntax_counts(&operation.selection_set.node);
    let variable_directives: usize = operation
        .variable_definitions
        .iter()
        .map(|v| v.node.directives.len())
        .sum();
    (
        aliases,
        directives + operation.directives.len() + variable_directives,
    )
}

/// Aliases and directives written in `set` (fragment spreads not followed: each
/// fragment definition is counted once, where it is written).
fn syntax_counts(set: &SelectionSet) -> (usize, usize) {
    let mut aliases = 0;
    let mut directives = 0;
    for item in &set.items {
        let (a, d) = match &item.node {
            Selection::Field(field) => {
                let (a, d) = syntax_counts(&field.node.selection_set.node);
                (
                    a + usize::from(field.node.alias.is_some()),
                    d + count(&field.node.directives),
                )
            }
            Selection::InlineFragment(inline) => {
                let (a, d) = syntax_counts(&inline.node.selection_set.node);
                (a, d + count(&inline.node.directives))
            }
            Selection::FragmentSpread(spread) => (0, count(&spread.node.directives)),
        };
        aliases += a;
        directives += d;
    }
    (aliases, directives)
}

fn count(directives: &[Positioned<Directive>]) -> usize {
    directives.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(query: &str) -> Shape {
        let doc = async_graphql::parser::parse_query(query).expect("the test query parses");
        measure(&doc, &Variables::default())
    }

    #[test]
    fn depth_counts_fields_through_fragments_but_not_of_type() {
        let s = shape("{ a { b { ...F } } } fragment F on T { c { ofType { ofType { d } } } }");
        assert_eq!(s.depth, 4); // a b c d
                                // { a { b { ...F(c { ofType { ofType { d } } }) } } }: seven sets deep.
        assert_eq!(s.nesting, 7);
        assert_eq!(s.fields, 6);
    }

    #[test]
    fn aliases_and_directives_are_counted_where_written() {
        let s = shape(
            "query Q @x { a: f @skip(if: true) { b: g } ...F } fragment F on T @y { c: h @z }",
        );
        assert_eq!(s.aliases, 3);
        assert_eq!(s.directives, 4);
    }

    #[test]
    fn nodes_multiply_along_nested_connections_and_add_up() {
        let s = shape(
            "{ a: cases(first: 100) { nodes { id } } b: departments(first: 10) { nodes { children { id } sub: things(last: 5) { edges { node { id } } } } } c: cases { totalCount } }",
        );
        // a: 100; b: 10 + 10×5; c: cases without a page size selects no page: 0.
        assert_eq!(s.nodes, 160);
    }

    #[test]
    fn the_ends_of_a_ranking_are_not_a_page() {
        let s =
            shape("{ ranking(unit: DEPARTMENT, first: 50000, last: 3) { rank unit { id name } } }");
        assert_eq!(s.nodes, 0);
        assert_eq!(s.fields, 5); // ranking rank unit id name
    }

    #[test]
    fn a_variable_page_size_is_read_from_the_variables() {
        let doc = async_graphql::parser::parse_query(
            "query($n: Int) { cases(first: $n) { nodes { id } } }",
        )
        .expect("parses");
        let variables = Variables::from_json(serde_json::json!({ "n": 70 }));
        assert_eq!(measure(&doc, &variables).nodes, 70);
        assert_eq!(
            measure(&doc, &Variables::default()).nodes,
            DEFAULT_PAGE_SIZE
        );
    }

    #[test]
    fn a_fragment_bomb_is_measured_in_linear_time() {
        let mut query = String::from("{ ...F0 }");
        for i in 0..40 {
            query.push_str(&format!(
                " fragment F{i} on Q {{ ...F{n} ...F{n} }}",
                n = i + 1
            ));
        }
        query.push_str(" fragment F40 on Q { x }");
        assert_eq!(shape(&query).fields, 1 << 40);
    }

    #[test]
    fn a_fragment_cycle_adds_nothing() {
        let s = shape("{ ...A } fragment A on Q { x ...B } fragment B on Q { y ...A }");
        assert_eq!(s.fields, 2);
    }
}
