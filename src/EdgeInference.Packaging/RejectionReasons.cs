namespace EdgeInference.Packaging;

/// <summary>Why a device refused a package, as reported in its replies.</summary>
public static class RejectionReasons
{
    public const string Unsigned = "unsigned";
    public const string UntrustedKey = "untrusted_key";
    public const string BadSignature = "bad_signature";
    public const string Malformed = "malformed";
    public const string Expired = "expired";
    public const string Downgrade = "downgrade";
    public const string AgentTooOld = "agent_too_old";
    public const string HashMismatch = "hash_mismatch";
    public const string TooLarge = "too_large";

    /// <summary>The package is signed by a key the device's trust document revoked.</summary>
    public const string RevokedKey = "revoked_key";

    /// <summary>The package's version is below the model's floor in the device's trust document (signed rollbacks too).</summary>
    public const string BelowFloor = "below_floor";

    /// <summary>The manifest has no expiry: every package must expire.</summary>
    public const string NoExpiry = "no_expiry";

    /// <summary>A trust document no newer than the one the device has.</summary>
    public const string TrustRollback = "trust_rollback";
}
