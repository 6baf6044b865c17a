using Onnx;

namespace EdgeInference.Optimization.Quantization;

/// <summary>
/// One graph of a model (the main graph or a subgraph), with the scope it sees: its own initializers, then those of the
/// graphs around it, as ONNX resolves names in subgraphs.
/// </summary>
internal sealed class ModelScope
{
    private ModelScope(GraphProto graph, ModelScope? parent, string path)
    {
        Graph = graph;
        Parent = parent;
        Path = path;
        Initializers = graph.Initializer.ToDictionary(i => i.Name, StringComparer.Ordinal);
    }

    public GraphProto Graph { get; }

    public ModelScope? Parent { get; }

    /// <summary>Where the graph sits: <c>main</c>, or the node and attribute holding it (<c>main/If_32.then_branch</c>).</summary>
    public string Path { get; }

    public Dictionary<string, TensorProto> Initializers { get; }

    /// <summary>Every graph of the model, each after the graph holding it.</summary>
    public static List<ModelScope> All(ModelProto model)
    {
        var scopes = new List<ModelScope>();
        void Visit(ModelScope scope)
        {
            scopes.Add(scope);
            foreach (var node in scope.Graph.Node)
            {
                foreach (var attribute in node.Attribute.Where(a => a.G is not null))
                {
                    Visit(new ModelScope(attribute.G, scope, $"{scope.Path}/{node.Name}.{attribute.Name}"));
                }
            }
        }

        Visit(new ModelScope(model.Graph, null, "main"));
        return scopes;
    }

    /// <summary>The initializer <paramref name="name"/> names here, and the scope holding it.</summary>
    public (TensorProto Tensor, ModelScope Owner)? Initializer(string name) =>
        Initializers.TryGetValue(name, out var tensor) ? (tensor, this) : Parent?.Initializer(name);

    /// <summary>This graph and the graphs it holds, at any depth.</summary>
    public bool Contains(ModelScope other)
    {
        for (var scope = other; scope is not null; scope = scope.Parent)
        {
            if (scope == this)
            {
                return true;
            }
        }

        return false;
    }
}
