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
}
