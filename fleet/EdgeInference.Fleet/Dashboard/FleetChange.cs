namespace EdgeInference.Fleet.Dashboard;

/// <summary>Something in the fleet's state changed: a <c>device</c> or a <c>rollout</c>, by id.</summary>
public sealed record FleetChange(string Kind, string Id);
