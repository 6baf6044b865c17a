namespace EdgeInference.Fleet.Store;

/// <summary>Who holds a credential and what it may do.</summary>
public static class Roles
{
    /// <summary>Everything: push packages, drive rollouts, enroll and tag devices.</summary>
    public const string Operator = "operator";

    /// <summary>Read the API and the MQTT topics (dashboards).</summary>
    public const string Reader = "reader";

    /// <summary>A device: its own topics, and package downloads.</summary>
    public const string Device = "device";
}
