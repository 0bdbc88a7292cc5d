"""The import graph of the project's own modules has no cycle, across packages or inside one."""

import grimp
import pytest

# The packages of docs/architecture.md, top to bottom.
PACKAGES = (
    "cms",
    "demo",
    "portal",
    "scan2pay",
    "ocpp_gateway",
    "roaming",
    "billing",
    "sessions_app",
    "cards",
    "stations",
    "organizations",
    "core",
)


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph(*PACKAGES, cache_dir=None)


def strongly_connected(graph) -> list[set[str]]:
    """Tarjan's components of the module graph that hold more than one module (the cycles)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []

    def visit(start: str) -> None:
        # Iterative, so a deep chain of imports cannot exhaust Python's recursion limit.
        work = [(start, iter(sorted(graph.find_modules_directly_imported_by(start))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            module, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append(
                        (child, iter(sorted(graph.find_modules_directly_imported_by(child))))
                    )
                elif child in on_stack:
                    low[module] = min(low[module], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[module])
            if low[module] == index[module]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == module:
                        break
                if len(component) > 1:
                    found.append(component)

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def test_no_module_of_the_project_takes_part_in_an_import_cycle(graph):
    assert strongly_connected(graph) == []


def test_the_cycle_finder_finds_a_cycle_when_there_is_one(graph):
    graph.add_import(importer="core.events", imported="billing.services")
    try:
        cycles = strongly_connected(graph)
    finally:
        graph.remove_import(importer="core.events", imported="billing.services")
    assert any({"core.events", "billing.services"} <= cycle for cycle in cycles)


def test_every_package_imports_only_the_ones_below_it(graph):
    layers = [{package} for package in PACKAGES]
    # demo, portal and scan2pay share a layer: none imports another.
    layers[1:4] = [{"demo", "portal", "scan2pay"}]
    assert graph.find_illegal_dependencies_for_layers(layers=layers) == set()
