namespace EdgeInference.Runtime.Configuration;

/// <summary>Which versions on disk are served: exactly one of <c>latest</c>, <c>all</c> or <c>specific</c>.</summary>
public sealed class VersionPolicyConfig
{
    /// <summary>Serve the N highest versions.</summary>
    public int? Latest { get; set; }

    /// <summary>Serve every version.</summary>
    public bool? All { get; set; }

    /// <summary>Serve these versions only.</summary>
    public IList<long>? Specific { get; set; }
}
