namespace EdgeInference.Packaging;

/// <summary>A package a device must not install, with a machine-readable <see cref="Reason"/> (see <see cref="RejectionReasons"/>).</summary>
public sealed class PackageRejectedException : Exception
{
    public PackageRejectedException(string reason, string message)
        : base(message)
    {
        Reason = reason;
    }

    public PackageRejectedException()
        : this(RejectionReasons.Malformed, "the package was rejected")
    {
    }

    public PackageRejectedException(string message)
        : this(RejectionReasons.Malformed, message)
    {
    }

    public PackageRejectedException(string message, Exception innerException)
        : base(message, innerException)
    {
        Reason = RejectionReasons.Malformed;
    }

    public string Reason { get; }
}
