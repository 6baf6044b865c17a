namespace EdgeInference.Contracts;

/// <summary><c>&lt;model&gt;/&lt;version&gt;/profile.json</c>: the reference distribution of every input feature and output.</summary>
public sealed class DriftProfile
{
    public int SchemaVersion { get; set; } = MessageSchema.Version;

    public string Model { get; set; } = "";

    public long Version { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>Reference requests the profile was built from.</summary>
    public long Requests { get; set; }

    public List<ProfileFeature> Features { get; set; } = [];
}
