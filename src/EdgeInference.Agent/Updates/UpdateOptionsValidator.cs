using Microsoft.Extensions.Options;

namespace EdgeInference.Agent.Updates;

/// <summary>Names every bad <c>Updates</c> setting at start.</summary>
internal sealed class UpdateOptionsValidator : IValidateOptions<UpdateOptions>
{
    public ValidateOptionsResult Validate(string? name, UpdateOptions options)
    {
        var failures = new List<string>();
        if (options.MaxPackageBytes <= 0)
        {
            failures.Add("Updates:MaxPackageBytes must be positive");
        }

        if (options.DownloadTimeout <= TimeSpan.Zero)
        {
            failures.Add("Updates:DownloadTimeout must be positive");
        }

        if (options.DownloadDeadline <= TimeSpan.Zero)
        {
            failures.Add("Updates:DownloadDeadline must be positive");
        }

        if (options.RootThreshold < 1)
        {
            failures.Add("Updates:RootThreshold must be at least 1");
        }

        if (options.RootKeys is { } roots && !Directory.Exists(roots))
        {
            failures.Add($"Updates:RootKeys (--root-keys) '{roots}' is not a folder");
        }

        if (options.DownloadAttempts < 1)
        {
            failures.Add("Updates:DownloadAttempts must be at least 1");
        }

        if (options.ProbationPeriod < TimeSpan.Zero)
        {
            failures.Add("Updates:ProbationPeriod must not be negative");
        }

        if (options.CrashLoopRestarts < 1)
        {
            failures.Add("Updates:CrashLoopRestarts must be at least 1");
        }

        if (options.KeepVersions < 2)
        {
            failures.Add("Updates:KeepVersions must be at least 2 (the serving version and one to roll back to)");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
