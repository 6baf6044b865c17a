using Microsoft.Extensions.Options;

namespace EdgeInference.Agent.Hosting;

/// <summary>Refuses settings the agent cannot run with, naming the setting and the problem.</summary>
public sealed class AgentOptionsValidator(ConfigFiles files) : IValidateOptions<AgentOptions>
{
    public ValidateOptionsResult Validate(string? name, AgentOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>(files.Problems);
        if (string.IsNullOrWhiteSpace(options.Models))
        {
            failures.Add("--models (Agent:Models) is required: the model repository directory");
        }

        if (string.IsNullOrWhiteSpace(options.Data))
        {
            failures.Add("--data (Agent:Data) is required: the directory for the agent's state");
        }

        try
        {
            _ = ListenAddress.ParseHttp(options.Urls);
            if (!string.IsNullOrWhiteSpace(options.Grpc))
            {
                _ = ListenAddress.ParseGrpc(options.Grpc);
            }
        }
        catch (FormatException ex)
        {
            failures.Add(ex.Message);
        }

        if (options.PollInterval < TimeSpan.FromMilliseconds(10))
        {
            failures.Add($"Agent:PollInterval must be at least 10 ms, not {options.PollInterval}");
        }

        if (options.MaxRequestBodyBytes < 1024)
        {
            failures.Add($"Agent:MaxRequestBodyBytes must be at least 1024, not {options.MaxRequestBodyBytes}");
        }

        var log = options.PredictionLog;
        if (log.MaxRecords < 1 || log.BatchSize < 1 || log.QueueCapacity < 1 || log.OutputValues < 0)
        {
            failures.Add("Agent:PredictionLog MaxRecords, BatchSize and QueueCapacity must be positive, OutputValues not negative");
        }

        if (log.CommitInterval < TimeSpan.Zero || log.CommitInterval > TimeSpan.FromSeconds(10))
        {
            failures.Add($"Agent:PredictionLog:CommitInterval must be between 0 and 10 s, not {log.CommitInterval}");
        }

        if (log.InputSampleRate is < 0 or > 1 || double.IsNaN(log.InputSampleRate))
        {
            failures.Add($"Agent:PredictionLog:InputSampleRate must be between 0 and 1, not {log.InputSampleRate}");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
