using EdgeInference.Contracts;

namespace EdgeInference.Fleet.Store;

/// <summary>
/// Shadow mode for a rollout's installs: before switching, each device's new version replays up to
/// <see cref="Requests"/> live requests (waiting at most <see cref="Timeout"/>) without serving them, and the
/// device reports how often it agreed with the serving version (the <c>agreement</c> gate).
/// </summary>
public sealed class RolloutShadow
{
    public int Requests { get; set; }

    public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Single-value outputs agree within <c>tolerance × (1 + |served|)</c>; class outputs on the top class.</summary>
    public double Tolerance { get; set; } = 0.05;

    /// <summary>Sets these shadow-mode settings on <paramref name="deploy"/>.</summary>
    public DeployCommand ApplyTo(DeployCommand deploy)
    {
        ArgumentNullException.ThrowIfNull(deploy);
        deploy.ShadowRequests = Requests;
        deploy.ShadowSeconds = Timeout.TotalSeconds;
        deploy.ShadowTolerance = Tolerance;
        return deploy;
    }
}
