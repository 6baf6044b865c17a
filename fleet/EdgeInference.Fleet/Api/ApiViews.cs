using EdgeInference.Contracts;
using EdgeInference.Fleet.Rollouts;
using EdgeInference.Fleet.Store;

namespace EdgeInference.Fleet.Api;

/// <summary>
/// The store's records as the REST contract shows them (<c>EdgeInference.Fleet.Api</c>): the storage can change shape
/// (rollouts' devices became rows) without the API changing, and what only the service needs (leases, per-row ids)
/// stays inside.
/// </summary>
internal static class ApiViews
{
    public static DeviceView ToView(this DeviceRecord device) => new()
    {
        Id = device.Id, Enrolled = device.Enrolled, TrustVersion = device.TrustVersion, EnrolledAt = device.EnrolledAt, RevokedAt = device.RevokedAt,
        Tags = new Dictionary<string, string>(device.Tags, StringComparer.Ordinal), Online = device.Online, LastSeen = device.LastSeen,
        AgentVersion = device.AgentVersion, Models = device.Models, Updates = device.Updates,
        DesiredConfiguration = device.DesiredConfiguration, ReportedConfiguration = device.ReportedConfiguration, ConfigurationPending = device.ConfigurationPending,
        LatestTelemetry = device.LatestTelemetry,
        Stats = device.Stats.ToDictionary(
            s => s.Key,
            s => new VersionFigures { Requests = s.Value.Requests, Errors = s.Value.Errors, P95Ms = s.Value.P95Ms, Windows = s.Value.Windows, FirstSeen = s.Value.FirstSeen, LastSeen = s.Value.LastSeen },
            StringComparer.Ordinal),
        Drift = device.Drift.ToDictionary(
            d => d.Key,
            d => new DriftWindow { Drifted = d.Value.Drifted, Features = d.Value.Features, MaxPsi = d.Value.MaxPsi, Requests = d.Value.Requests, At = d.Value.At },
            StringComparer.Ordinal),
    };

    public static PackageView ToView(this PackageRecord package) => new()
    {
        Name = package.Name, Version = package.Version, Signed = package.Signed, Manifest = package.Manifest, PushedAt = package.PushedAt, PushedBy = package.PushedBy,
    };

    public static CommandView ToView(this CommandRecord command) => new()
    {
        Id = command.Id, DeviceId = command.DeviceId, Message = command.Message, RolloutId = command.RolloutId, State = command.State, Final = command.Final,
        CreatedAt = command.CreatedAt, SentAt = command.SentAt, Sends = command.Sends, Replies = command.Replies,
    };

    public static RolloutView ToView(this RolloutSnapshot snapshot, IReadOnlyList<RolloutEvent> events)
    {
        var rollout = snapshot.Rollout;
        return new RolloutView
        {
            Rollout = new RolloutSummary
            {
                Id = rollout.Id, Model = rollout.Model, Version = rollout.Version, Target = rollout.Target,
                Stages = rollout.Stages.Select(s => new StageSpec { Count = s.Count, Percent = s.Percent }).ToList(),
                Soak = rollout.Soak,
                Gates = rollout.Gates.Select(g => new GateSpec { Metric = g.Metric, Operator = g.Operator, Threshold = g.Threshold }).ToList(),
                Shadow = rollout.Shadow is { } shadow ? new ShadowSpec { Requests = shadow.Requests, Timeout = shadow.Timeout, Tolerance = shadow.Tolerance } : null,
                OnFailure = rollout.OnFailure, RequireApproval = rollout.RequireApproval, NoDataTimeout = rollout.NoDataTimeout, OnNoData = rollout.OnNoData,
                MaxPerMinute = rollout.MaxPerMinute, OfflineTimeout = rollout.OfflineTimeout, State = rollout.State, Stage = rollout.Stage,
                StageStartedAt = rollout.StageStartedAt, StageSettledAt = rollout.StageSettledAt,
                LastGateResults = rollout.LastGateResults.Select(g => new GateOutcome { Gate = g.Gate, Value = g.Value, Passed = g.Passed, Samples = g.Samples }).ToList(),
                Reason = rollout.Reason, CreatedAt = rollout.CreatedAt, UpdatedAt = rollout.UpdatedAt, CreatedBy = rollout.CreatedBy,
            },
            Targeted = snapshot.Targeted.Count,
            StageDevices = rollout.Stages[Math.Min(rollout.Stage, rollout.Stages.Count - 1)].DevicesOf(snapshot.Targeted.Count),
            Counts = snapshot.Devices.GroupBy(d => d.State.WireName()).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal),
            Devices = snapshot.Devices.Select(d => new RolloutDeviceView
            {
                DeviceId = d.DeviceId, Stage = d.Stage, State = d.State, Reason = d.Reason, Message = d.Message, Online = d.Online, ServingVersion = d.ServingVersion,
                PreviousVersion = d.PreviousVersion, GoldenPassed = d.GoldenPassed, GoldenTotal = d.GoldenTotal, ShadowAgreement = d.ShadowAgreement, ShadowRequests = d.ShadowRequests, BenchmarkP95Ms = d.BenchmarkP95Ms,
            }).ToList(),
            Events = events.Select(e => new RolloutEventView { RolloutId = e.RolloutId, At = e.At, Kind = e.Kind, Stage = e.Stage, Message = e.Message, By = e.By }).ToList(),
        };
    }
}
