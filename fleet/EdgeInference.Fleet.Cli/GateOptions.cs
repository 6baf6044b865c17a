using System.CommandLine;
using EdgeInference.Optimization.Verification;

namespace EdgeInference.Fleet.Cli;

/// <summary>The accuracy gates of <c>models verify</c> and <c>models optimize</c>, as options.</summary>
internal sealed class GateOptions
{
    private readonly Option<double?> _maxAbsDiff = new("--max-abs-diff") { Description = "Gate: the largest |candidate − reference| allowed" };
    private readonly Option<double?> _maxP99 = new("--max-p99-diff") { Description = "Gate: the largest 99th percentile of |candidate − reference| allowed" };
    private readonly Option<double?> _minCosine = new("--min-cosine") { Description = "Gate: the lowest cosine similarity allowed, per input (outputs of more than one value)" };
    private readonly Option<double?> _minAgreement = new("--min-agreement") { Description = "Gate: the lowest share of inputs decided alike (top class, or the side of --threshold)" };
    private readonly Option<double?> _minKept = new("--min-positives-kept") { Description = "Gate: the lowest share of the reference's positives the candidate must keep (single-score outputs)" };
    private readonly Option<double> _threshold = new("--threshold") { Description = "Where a single score becomes a positive (default 0.5)", DefaultValueFactory = _ => 0.5 };

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { _maxAbsDiff, _maxP99, _minCosine, _minAgreement, _minKept, _threshold })
        {
            command.Options.Add(option);
        }
    }

    public VerificationGates Read(ParseResult parse) => new()
    {
        MaxAbsDiff = parse.GetValue(_maxAbsDiff), MaxP99AbsDiff = parse.GetValue(_maxP99), MinCosine = parse.GetValue(_minCosine),
        MinAgreement = parse.GetValue(_minAgreement), MinPositivesKept = parse.GetValue(_minKept), Threshold = parse.GetValue(_threshold),
    };
}
