"""The Double-11 traffic simulator: a synthetic national express network and its events.

Along the flow (see docs/simulator.md):

    cities, placement, lanes, network   where hubs stand, their tiers, capacities and lanes
    profile                             the season, the hour of day, the 11.11 midnight surge
    model, fluid, flows                 parcels through hubs and along lanes, minute by minute
    scenarios, plan                     what goes wrong, and how it changes the flows
    records, faults                     steps as schema-v1 events and record bytes; data faults
    labels                              the ground truth: overflows and silences
    simulation                          generate() -> Simulation: registry, batches, labels
    sinks, stream, cli                  Kafka / HTTP / files, pacing and progress, the command
"""
