using EdgeInference.Runtime.Inference;

namespace EdgeInference.Agent.PredictionLog;

/// <summary>Something that looks at every served prediction after its reply is sent (drift sketches, GPIO output rules).</summary>
public interface IPredictionObserver
{
    /// <summary>Called once per served request, on the request's thread; must be quick and must not throw.</summary>
    void Observe(InferenceRequest request, InferenceResponse response);
}
