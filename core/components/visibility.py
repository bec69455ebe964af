"""When the designer shows a parameter: ``field -> {parent field: values that show it}``.

The designer hides parameters that do not apply, for example a learner's "Range for ..."
fields in SingleParameter mode. A client builds its form from the catalogue's JSON schema, so
each condition is published there as ``x-visible-when`` on the property. A field is shown when
every condition holds and its parent is shown too. These are interface facts (names and option
values) of the designer's components, one entry per conditional parameter.
"""

from __future__ import annotations

from typing import Any

VISIBLE_WHEN: dict[str, dict[str, dict[str, tuple[Any, ...]]]] = {
    "boosted_decision_tree_regression": {
        "maximum_number_of_leaves_per_tree": {"create_trainer_mode": ("SingleParameter",)},
        "minimum_number_of_training_instances_required_to_form_a_leaf": {
            "create_trainer_mode": ("SingleParameter",)
        },
        "the_learning_rate": {"create_trainer_mode": ("SingleParameter",)},
        "total_number_of_trees_constructed": {"create_trainer_mode": ("SingleParameter",)},
        "range_for_maximum_number_of_leaves_per_tree": {"create_trainer_mode": ("ParameterRange",)},
        "range_for_minimum_number_of_training_instances_required_to_form_a_leaf": {
            "create_trainer_mode": ("ParameterRange",)
        },
        "range_for_learning_rate": {"create_trainer_mode": ("ParameterRange",)},
        "range_for_total_number_of_trees_constructed": {"create_trainer_mode": ("ParameterRange",)},
    },
    "clean_missing_data": {
        "replacement_value": {"cleaning_mode": ("Custom substitution value",)},
        "cols_with_all_missing_values": {
            "cleaning_mode": ("Replace with mean", "Replace with median", "Replace with mode")
        },
        "generate_missing_value_indicator_column": {
            "cleaning_mode": (
                "Replace with mean",
                "Replace with median",
                "Replace with mode",
                "Custom substitution value",
            )
        },
    },
    "decision_forest_regression": {
        "number_of_decision_trees": {"create_trainer_mode": ("SingleParameter",)},
        "maximum_depth_of_the_decision_trees": {"create_trainer_mode": ("SingleParameter",)},
        "number_of_random_splits_per_node": {"create_trainer_mode": ("SingleParameter",)},
        "minimum_number_of_samples_per_leaf_node": {"create_trainer_mode": ("SingleParameter",)},
        "range_for_number_of_decision_trees": {"create_trainer_mode": ("ParameterRange",)},
        "range_for_the_maximum_depth_of_the_decision_trees": {"create_trainer_mode": ("ParameterRange",)},
        "range_for_the_number_of_random_splits_per_node": {"create_trainer_mode": ("ParameterRange",)},
        "range_for_the_minimum_number_of_samples_per_leaf_node": {"create_trainer_mode": ("ParameterRange",)},
    },
    "edit_metadata": {
        "date_and_time_format": {"data_type": ("DateTime",)},
        "timespan_format": {"data_type": ("TimeSpan",)},
    },
    "enter_data_manually": {
        "has_header": {"data_format": ("TSV", "CSV")},
    },
    "group_data_into_bins": {
        "number_of_bins": {"binning_mode": ("Quantiles", "Equal Width")},
        "quantile_normalization": {"binning_mode": ("Quantiles",)},
        "first_edge_position": {"binning_mode": ("Equal Width With Custom Start and Stop",)},
        "bin_width": {"binning_mode": ("Equal Width With Custom Start and Stop",)},
        "last_edge_position": {"binning_mode": ("Equal Width With Custom Start and Stop",)},
        "comma_separated_list_of_bin_edges": {"binning_mode": ("Custom Edges",)},
    },
    "join_data": {
        "keep_right_key_columns_in_joined_table": {
            "join_type": ("Inner Join", "Left Outer Join", "Full Outer Join")
        },
    },
    "k_means_clustering": {
        "number_of_centroids": {"create_trainer_mode": ("SingleParameter",)},
        "range_for_number_of_centroids": {"create_trainer_mode": ("ParameterRange",)},
        "initialization": {"create_trainer_mode": ("SingleParameter",)},
        "initialization_for_sweep": {"create_trainer_mode": ("ParameterRange",)},
        "random_number_seed": {"initialization": ("Random", "K-Means++", "K-Means++ Fast")},
        "random_number_seed_for_sweep": {
            "initialization_for_sweep": ("Random", "K-Means++", "K-Means++ Fast")
        },
    },
    "linear_regression": {
        "create_trainer_mode": {"solution_method": ("Online Gradient Descent",)},
        "normalize_features": {"solution_method": ("Online Gradient Descent",)},
        "average_final_hypothesis": {"solution_method": ("Online Gradient Descent",)},
        "learning_rate": {"create_trainer_mode": ("SingleParameter",)},
        "number_of_epochs": {"create_trainer_mode": ("SingleParameter",)},
        "range_for_learning_rate": {"create_trainer_mode": ("ParameterRange",)},
        "range_for_number_of_epochs": {"create_trainer_mode": ("ParameterRange",)},
        "decrease_learning_rate": {"solution_method": ("Online Gradient Descent",)},
        "l2_regularization_term_weight": {"create_trainer_mode": ("SingleParameter",)},
        "l2_regularization_weight": {"solution_method": ("Ordinary Least Squares",)},
        "range_for_l2_regularization_term_weight": {"create_trainer_mode": ("ParameterRange",)},
        "include_intercept_term": {"solution_method": ("Ordinary Least Squares",)},
    },
    "multiclass_boosted_decision_tree": {
        "maximum_number_of_leaves_per_tree": {"create_trainer_mode": ("SingleParameter",)},
        "minimum_number_of_training_instances_required_to_form_a_leaf": {
            "create_trainer_mode": ("SingleParameter",)
        },
        "the_learning_rate": {"create_trainer_mode": ("SingleParameter",)},
        "total_number_of_trees_constructed": {"create_trainer_mode": ("SingleParameter",)},
        "range_for_maximum_number_of_leaves_per_tree": {"create_trainer_mode": ("ParameterRange",)},
        "range_for_minimum_number_of_training_instances_required_to_form_a_leaf": {
            "create_trainer_mode": ("ParameterRange",)
        },
        "range_for_learning_rate": {"create_trainer_mode": ("ParameterRange",)},
        "range_for_total_number_of_trees_constructed": {"create_trainer_mode": ("ParameterRange",)},
    },
    "multiclass_decision_forest": {
        "number_of_decision_trees": {"create_trainer_mode": ("SingleParameter",)},
        "maximum_depth_of_the_decision_trees": {"create_trainer_mode": ("SingleParameter",)},
        "number_of_random_splits_per_node": {"create_trainer_mode": ("SingleParameter",)},
        "minimum_number_of_samples_per_leaf_node": {"create_trainer_mode": ("SingleParameter",)},
        "range_for_number_of_decision_trees": {"create_trainer_mode": ("ParameterRange",)},
        "range_for_the_maximum_depth_of_the_decision_trees": {"create_trainer_mode": ("ParameterRange",)},
        "range_for_the_number_of_random_splits_per_node": {"create_trainer_mode": ("ParameterRange",)},
        "range_for_the_minimum_number_of_samples_per_leaf_node": {"create_trainer_mode": ("ParameterRange",)},
    },
    "multiclass_logistic_regression": {
        "optimization_tolerance": {"create_trainer_mode": ("SingleParameter",)},
        "l1_regularization_weight": {"create_trainer_mode": ("SingleParameter",)},
        "l2_regularization_weight": {"create_trainer_mode": ("SingleParameter",)},
        "memory_size": {"create_trainer_mode": ("SingleParameter",)},
        "range_for_optimization_tolerance": {"create_trainer_mode": ("ParameterRange",)},
        "range_for_l1_regularization_weight": {"create_trainer_mode": ("ParameterRange",)},
        "range_for_l2_regularization_weight": {"create_trainer_mode": ("ParameterRange",)},
        "range_for_memory_size": {"create_trainer_mode": ("ParameterRange",)},
    },
    "multiclass_neural_network": {
        "hidden_layer_specification": {"create_trainer_mode": ("SingleParameter",)},
        "hidden_layer_specification1": {"create_trainer_mode": ("ParameterRange",)},
        "the_learning_rate": {"create_trainer_mode": ("SingleParameter",)},
        "range_for_learning_rate": {"create_trainer_mode": ("ParameterRange",)},
        "number_of_hidden_nodes": {"hidden_layer_specification": ("Fully-connected case",)},
        "number_of_hidden_nodes1": {"hidden_layer_specification1": ("Fully-connected case",)},
        "number_of_learning_iterations": {"create_trainer_mode": ("SingleParameter",)},
        "range_for_number_of_learning_iterations": {"create_trainer_mode": ("ParameterRange",)},
    },
    "neural_network_regression": {
        "hidden_layer_specification": {"create_trainer_mode": ("SingleParameter",)},
        "hidden_layer_specification1": {"create_trainer_mode": ("ParameterRange",)},
        "the_learning_rate": {"create_trainer_mode": ("SingleParameter",)},
        "range_for_learning_rate": {"create_trainer_mode": ("ParameterRange",)},
        "number_of_hidden_nodes": {"hidden_layer_specification": ("Fully-connected case",)},
        "number_of_hidden_nodes1": {"hidden_layer_specification1": ("Fully-connected case",)},
        "number_of_learning_iterations": {"create_trainer_mode": ("SingleParameter",)},
        "range_for_number_of_learning_iterations": {"create_trainer_mode": ("ParameterRange",)},
    },
    "normalize_data": {
        "use_0_for_constant_columns_when_checked": {
            "transformation_method": ("ZScore", "MinMax", "LogNormal")
        },
    },
    "partition_and_sample": {
        "use_replacement_in_the_partitioning": {"partition_or_sample_mode": ("Assign to Folds",)},
        "randomized_split": {"partition_or_sample_mode": ("Assign to Folds",)},
        "random_seed": {"partition_or_sample_mode": ("Assign to Folds",)},
        "partitioner_method": {"partition_or_sample_mode": ("Assign to Folds",)},
        "number_of_folds": {"partitioner_method": ("Partition evenly",)},
        "stratified_split": {"partitioner_method": ("Partition evenly",)},
        "stratification_key_column": {"stratified_split": (True,)},
        "proportions": {"partitioner_method": ("Partition with customized proportions",)},
        "stratified_split_for_customized_fold_assignment": {
            "partitioner_method": ("Partition with customized proportions",)
        },
        "stratification_key_column_for_customized_fold_assignment": {
            "stratified_split_for_customized_fold_assignment": (True,)
        },
        "fold_to_pick": {"partition_or_sample_mode": ("Pick Fold",)},
        "pick_complement_of_the_selected_fold": {"partition_or_sample_mode": ("Pick Fold",)},
        "rate_of_sampling": {"partition_or_sample_mode": ("Sampling",)},
        "random_seed_for_sampling": {"partition_or_sample_mode": ("Sampling",)},
        "stratified_split_for_sampling": {"partition_or_sample_mode": ("Sampling",)},
        "stratification_key_column_for_sampling": {"stratified_split_for_sampling": (True,)},
        "number_of_rows_to_select": {"partition_or_sample_mode": ("Head",)},
    },
    "poisson_regression": {
        "l1_regularization_weight": {"create_trainer_mode": ("SingleParameter",)},
        "l2_regularization_weight": {"create_trainer_mode": ("SingleParameter",)},
        "memory_size": {"create_trainer_mode": ("SingleParameter",)},
        "range_for_optimization_tolerance": {"create_trainer_mode": ("ParameterRange",)},
        "range_for_l1_regularization_weight": {"create_trainer_mode": ("ParameterRange",)},
        "range_for_l2_regularization_weight": {"create_trainer_mode": ("ParameterRange",)},
        "range_for_memory_size": {"create_trainer_mode": ("ParameterRange",)},
    },
    "split_data": {
        "fraction": {"splitting_mode": ("Split Rows",)},
        "randomized_split": {"splitting_mode": ("Split Rows",)},
        "random_seed": {"splitting_mode": ("Split Rows",)},
        "stratified_split": {"splitting_mode": ("Split Rows",)},
        "stratification_key_column": {"stratified_split": (True,)},
        "regular_expression": {"splitting_mode": ("Regular Expression",)},
        "relational_expression": {"splitting_mode": ("Relative Expression",)},
    },
    "tune_model_hyperparameters": {
        "maximum_number_of_runs_on_random_sweep": {"specify_parameter_sweeping_mode": ("Random sweep",)},
        "random_seed": {"specify_parameter_sweeping_mode": ("Random sweep",)},
        "maximum_number_of_runs_on_random_grid": {"specify_parameter_sweeping_mode": ("Random grid",)},
        "random_seed_for_random_grid": {"specify_parameter_sweeping_mode": ("Random grid",)},
    },
    "two_class_averaged_perceptron": {
        "initial_learning_rate": {"create_trainer_mode": ("SingleParameter",)},
        "maximum_number_of_iterations": {"create_trainer_mode": ("SingleParameter",)},
        "range_for_initial_learning_rate": {"create_trainer_mode": ("ParameterRange",)},
        "range_for_maximum_number_of_iterations": {"create_trainer_mode": ("ParameterRange",)},
    },
    "two_class_boosted_decision_tree": {
        "maximum_number_of_leaves_per_tree": {"create_trainer_mode": ("SingleParameter",)},
        "minimum_number_of_training_instances_required_to_form_a_leaf": {
            "create_trainer_mode": ("SingleParameter",)
        },
        "the_learning_rate": {"create_trainer_mode": ("SingleParameter",)},
        "total_number_of_trees_constructed": {"create_trainer_mode": ("SingleParameter",)},
        "range_for_maximum_number_of_leaves_per_tree": {"create_trainer_mode": ("ParameterRange",)},
        "range_for_minimum_number_of_training_instances_required_to_form_a_leaf": {
            "create_trainer_mode": ("ParameterRange",)
        },
        "range_for_learning_rate": {"create_trainer_mode": ("ParameterRange",)},
        "range_for_total_number_of_trees_constructed": {"create_trainer_mode": ("ParameterRange",)},
    },
    "two_class_decision_forest": {
        "number_of_decision_trees": {"create_trainer_mode": ("SingleParameter",)},
        "maximum_depth_of_the_decision_trees": {"create_trainer_mode": ("SingleParameter",)},
        "number_of_random_splits_per_node": {"create_trainer_mode": ("SingleParameter",)},
        "minimum_number_of_samples_per_leaf_node": {"create_trainer_mode": ("SingleParameter",)},
        "range_for_number_of_decision_trees": {"create_trainer_mode": ("ParameterRange",)},
        "range_for_the_maximum_depth_of_the_decision_trees": {"create_trainer_mode": ("ParameterRange",)},
        "range_for_the_number_of_random_splits_per_node": {"create_trainer_mode": ("ParameterRange",)},
        "range_for_the_minimum_number_of_samples_per_leaf_node": {"create_trainer_mode": ("ParameterRange",)},
    },
    "two_class_logistic_regression": {
        "optimization_tolerance": {"create_trainer_mode": ("SingleParameter",)},
        "l1_regularization_weight": {"create_trainer_mode": ("SingleParameter",)},
        "l2_regularization_weight": {"create_trainer_mode": ("SingleParameter",)},
        "memory_size": {"create_trainer_mode": ("SingleParameter",)},
        "range_for_optimization_tolerance": {"create_trainer_mode": ("ParameterRange",)},
        "range_for_l1_regularization_weight": {"create_trainer_mode": ("ParameterRange",)},
        "range_for_l2_regularization_weight": {"create_trainer_mode": ("ParameterRange",)},
        "range_for_memory_size": {"create_trainer_mode": ("ParameterRange",)},
    },
    "two_class_neural_network": {
        "hidden_layer_specification": {"create_trainer_mode": ("SingleParameter",)},
        "hidden_layer_specification1": {"create_trainer_mode": ("ParameterRange",)},
        "the_learning_rate": {"create_trainer_mode": ("SingleParameter",)},
        "range_for_learning_rate": {"create_trainer_mode": ("ParameterRange",)},
        "number_of_hidden_nodes": {"hidden_layer_specification": ("Fully-connected case",)},
        "number_of_hidden_nodes1": {"hidden_layer_specification1": ("Fully-connected case",)},
        "number_of_learning_iterations": {"create_trainer_mode": ("SingleParameter",)},
        "range_for_number_of_learning_iterations": {"create_trainer_mode": ("ParameterRange",)},
    },
    "two_class_support_vector_machine": {
        "number_of_iterations": {"create_trainer_mode": ("SingleParameter",)},
        "range_for_number_of_iterations": {"create_trainer_mode": ("ParameterRange",)},
        "the_value_lambda": {"create_trainer_mode": ("SingleParameter",)},
        "range_for_lambda": {"create_trainer_mode": ("ParameterRange",)},
    },
}
