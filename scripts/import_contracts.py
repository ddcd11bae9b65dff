"""A contract type for import-linter (see .importlinter): no module imports itself back.

import-linter's own `acyclic_siblings` finds cycles between the children of one package; this
one finds them between any modules of the project, across apps and areas too, so a helper
that imports the task that imports the helper fails `make lint` (and the test that runs it).
Imports inside functions count: a deferred import still ties the two modules together.
"""

from __future__ import annotations

import grimp
from importlinter import Contract, ContractCheck, output


class AcyclicModulesContract(Contract):
    type_name = "acyclic_modules"

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        cycles = [(members, _one_loop(graph, members)) for members in _cycles(graph)]
        return ContractCheck(kept=not cycles, warnings=[], metadata={"cycles": cycles})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for members, loop in check.metadata["cycles"]:
            output.print_error(f"These {len(members)} modules import each other:", bold=False)
            output.print_error("  " + ", ".join(members), bold=False)
            output.print_error("  for example: " + " -> ".join(loop), bold=False)
            output.new_line()


def _one_loop(graph: grimp.ImportGraph, members: list[str]) -> list[str]:
    """A path of imports from the first member back to itself, inside the component."""
    start = members[0]
    for child in sorted(graph.find_modules_directly_imported_by(start)):
        if child in members:
            chain = graph.find_shortest_chain(importer=child, imported=start)
            if chain:
                return [start, *chain]
    return [start, start]


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append(
                        (child, iter(sorted(graph.find_modules_directly_imported_by(child))))
                    )
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return sorted(found)
