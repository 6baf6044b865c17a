namespace EdgeInference.Fleet.Store;

/// <summary>Who holds a credential and what it may do.</summary>
public static class Roles
{
    /// <summary>Everything: push packages, drive rollouts, enroll and tag devices.</summary>
    public const string Operator = "operator";

    /// <summary>Read the API and the MQTT topics (dashboards).</summary>
    public const string Reader = "reader";

    /// <summary>A device: its own MQTT topics (its secret opens nothing in the HTTP API).</summary>
    public const string Device = "device";

    /// <summary>The holder of a download token: the files of the one package the token names.</summary>
    public const string Download = "download";
}
